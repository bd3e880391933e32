import { handleRewriteRequest } from '~/features/suggestions/server/rewrite-sse';
import { suggestionRuntime } from '~/features/suggestions/server/suggestions-runtime';
import { db } from '~/server/db';

// Streams; never cached or prerendered.
export const dynamic = 'force-dynamic';

export function POST(req: Request): Promise<Response> {
  return handleRewriteRequest(req, suggestionRuntime(db()));
}
