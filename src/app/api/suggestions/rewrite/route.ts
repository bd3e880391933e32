import { auth } from '~/features/auth/server/app-auth';
import { handleRewriteRequest } from '~/features/suggestions/server/rewrite-sse';
import { suggestionRuntime } from '~/features/suggestions/server/suggestions-runtime';
import { db } from '~/server/db';
import { admitEndUser, clientAddress } from '~/server/rate-limit';
import { toSessionUser } from '~/server/trpc';

// Streams; never cached or prerendered.
export const dynamic = 'force-dynamic';

export function POST(req: Request): Promise<Response> {
  return handleRewriteRequest(req, suggestionRuntime(db()), ({ unitId }) =>
    admitEndUser({
      getUser: async () =>
        toSessionUser((await auth().api.getSession({ headers: req.headers }))?.user),
      clientAddress: clientAddress(req.headers),
      unitId,
    }),
  );
}
