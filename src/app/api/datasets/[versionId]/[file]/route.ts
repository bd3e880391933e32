import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { auth } from '~/features/auth/server/app-auth';
import { DATASET_FILES } from '~/features/datasets/server/dataset-files';
import { versionFilePath } from '~/features/datasets/server/datasets-queries';
import { db } from '~/server/db';
import { UnauthorizedError } from '~/server/errors';
import { errorResponse } from '~/server/http/error-response';

// Console downloads of a dataset version's files (signed-in users); API keys use /api/v1/datasets.
export const dynamic = 'force-dynamic';

const params = z.object({ versionId: z.uuid(), file: z.enum(DATASET_FILES) });

export async function GET(
  req: Request,
  context: { params: Promise<{ versionId: string; file: string }> },
): Promise<Response> {
  try {
    const session = await auth().api.getSession({ headers: req.headers });
    if (!session?.user) return errorResponse(new UnauthorizedError('Sign in first'));
    const { versionId, file } = params.parse(await context.params);
    const found = await versionFilePath(db(), versionId, file);
    const body = Readable.toWeb(createReadStream(found.path)) as ReadableStream<Uint8Array>;
    const name = `${found.version.dataset.name}-v${found.version.version}-${file}`;
    return new Response(body, {
      headers: {
        'content-type': file.endsWith('.md') ? 'text/markdown' : 'application/octet-stream',
        'content-disposition': `attachment; filename="${name}"`,
        'x-content-digest': found.version.contentDigest,
      },
    });
  } catch (error) {
    return errorResponse(error, 'dataset download');
  }
}
