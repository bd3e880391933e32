/**
 * Public HTTP API for the model registry (/api/v1/models), authenticated by API keys: any key
 * lists, an editor key registers a trained version with its lineage (what `npm run distill`
 * calls with --app-url, and what a team's own trainer can call).
 *
 *   GET  /versions     registered versions with lineage
 *   POST /versions     register { name, version, artifactDigest, lineage, backendModel? } → 201
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { hasRole } from '~/features/auth/roles';
import type { ApiKeyPrincipal } from '~/features/settings/server/api-key-service';
import type { Db } from '~/server/db';
import { ForbiddenError } from '~/server/errors';
import { readJsonBody } from '~/server/http/read-json-body';
import { listModelVersions, registerModelVersion } from './model-registry-service';

type Env = { Variables: { principal: ApiKeyPrincipal } };

export function modelsApi(getDb: () => Db, requireApiKey: MiddlewareHandler<Env>) {
  const app = new Hono<Env>();
  app.use('*', requireApiKey);
  app.get('/versions', async (c) => c.json(await listModelVersions(getDb())));
  app.post('/versions', async (c) => {
    const principal = c.get('principal');
    if (!hasRole(principal.role, 'editor'))
      throw new ForbiddenError(
        `Registering a model version needs an editor key; this key acts as ${principal.role}`,
      );
    const version = await registerModelVersion(
      getDb(),
      { type: 'api_key', userId: principal.userId },
      await readJsonBody(c.req.raw),
    );
    return c.json(version, 201);
  });
  return app;
}
