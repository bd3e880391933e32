/**
 * Public HTTP API for datasets (/api/v1/datasets), authenticated by API keys: any key reads and
 * downloads, an editor key defines and builds. Same services as the console.
 *
 *   GET  /datasets                                   list
 *   POST /datasets                                   define { name, description?, definition }
 *   GET  /datasets/:ref                              one dataset with versions and builds
 *   POST /datasets/:ref/builds                       queue a build { watermark? } → 202 + build
 *   GET  /datasets/builds/:buildId                   poll a build
 *   GET  /datasets/versions/:versionId/files/:file   stream train.jsonl, eval.jsonl, manifest.json, README.md
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { hasRole } from '~/features/auth/roles';
import type { Actor } from '~/features/audit/server/audit-service';
import type { ApiKeyPrincipal } from '~/features/settings/server/api-key-service';
import type { Db } from '~/server/db';
import { ForbiddenError } from '~/server/errors';
import { readJsonBody } from '~/server/http/read-json-body';
import { datasetDefinitionSchema, datasetNameSchema } from '../definition';
import { DATASET_FILES } from './dataset-files';
import { getBuild, getDataset, listDatasets, versionFilePath } from './datasets-queries';
import { createDataset, requestBuild, type DatasetsOptions } from './datasets-service';

type Env = { Variables: { principal: ApiKeyPrincipal } };

const createBody = z.object({
  name: datasetNameSchema,
  description: z.string().max(500).optional(),
  definition: datasetDefinitionSchema,
});
const buildBody = z.object({ watermark: z.iso.datetime({ offset: true }).optional() });
const uuid = z.uuid('Ids are UUIDs');
const fileParam = z.enum(DATASET_FILES, { message: `One of ${DATASET_FILES.join(', ')}` });

function editorActor(principal: ApiKeyPrincipal): Actor {
  if (!hasRole(principal.role, 'editor'))
    throw new ForbiddenError(
      `Changing datasets needs an editor key; this key acts as ${principal.role}`,
    );
  return { type: 'api_key', userId: principal.userId };
}

export function datasetsApi(
  getDb: () => Db,
  requireApiKey: MiddlewareHandler<Env>,
  options: DatasetsOptions = {},
) {
  const app = new Hono<Env>();
  app.use('*', requireApiKey);

  app.get('/', async (c) => c.json(await listDatasets(getDb())));
  app.post('/', async (c) => {
    const actor = editorActor(c.get('principal'));
    const body = createBody.parse(await readJsonBody(c.req.raw));
    return c.json(await createDataset(getDb(), actor, body), 201);
  });
  app.get('/builds/:buildId', async (c) =>
    c.json(await getBuild(getDb(), uuid.parse(c.req.param('buildId')))),
  );
  app.get('/versions/:versionId/files/:file', async (c) => {
    const versionId = uuid.parse(c.req.param('versionId'));
    const file = fileParam.parse(c.req.param('file'));
    const found = await versionFilePath(getDb(), versionId, file, options);
    const type = file.endsWith('.jsonl')
      ? 'application/x-ndjson'
      : file.endsWith('.json')
        ? 'application/json'
        : 'text/markdown';
    // Streamed from disk: a large split never sits in memory.
    const body = Readable.toWeb(createReadStream(found.path)) as ReadableStream<Uint8Array>;
    return c.body(body, 200, {
      'content-type': `${type}; charset=utf-8`,
      'x-content-digest': found.version.contentDigest,
    });
  });
  app.get('/:ref', async (c) => c.json(await getDataset(getDb(), c.req.param('ref'))));
  app.post('/:ref/builds', async (c) => {
    const actor = editorActor(c.get('principal'));
    // An empty body builds at the default watermark.
    const empty = (await c.req.raw.clone().text()).trim() === '';
    const body = buildBody.parse(empty ? {} : await readJsonBody(c.req.raw));
    const build = await requestBuild(
      getDb(),
      actor,
      { dataset: c.req.param('ref'), ...body },
      options,
    );
    return c.json(await getBuild(getDb(), build.id), 202);
  });
  return app;
}
