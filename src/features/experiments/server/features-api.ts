/**
 * Public HTTP API for the features' serving settings (/api/v1/features), authenticated by API
 * keys: any key reads, a key acting as editor or admin changes. Same services as the console.
 *
 *   GET /features                              every feature's default version and holdout
 *   PUT /features/:featureId/default-version   { modelVersionId } → served outside experiments
 *   PUT /features/:featureId/holdout           { share } (0..0.5; not while an experiment is live)
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { hasRole } from '~/features/auth/roles';
import type { Actor } from '~/features/audit/server/audit-service';
import type { ApiKeyPrincipal } from '~/features/settings/server/api-key-service';
import type { Db } from '~/server/db';
import { ForbiddenError } from '~/server/errors';
import { readJsonBody } from '~/server/http/read-json-body';
import { defaultVersionInput, holdoutInput } from '../config';
import { listFeatureSettings, setDefaultVersion, setHoldout } from './feature-settings';

type Env = { Variables: { principal: ApiKeyPrincipal } };

function editorActor(principal: ApiKeyPrincipal): Actor {
  if (!hasRole(principal.role, 'editor'))
    throw new ForbiddenError(
      `Changing a feature's settings needs an editor key; this key acts as ${principal.role}`,
    );
  return { type: 'api_key', userId: principal.userId };
}

function body(input: unknown): Record<string, unknown> {
  return typeof input === 'object' && input !== null && !Array.isArray(input)
    ? (input as Record<string, unknown>)
    : {};
}

export function featuresApi(getDb: () => Db, requireApiKey: MiddlewareHandler<Env>) {
  const app = new Hono<Env>();
  app.use('*', requireApiKey);

  app.get('/', async (c) => c.json(await listFeatureSettings(getDb())));

  app.put('/:featureId/default-version', async (c) => {
    const actor = editorActor(c.get('principal'));
    const input = body(await readJsonBody(c.req.raw));
    const featureId = c.req.param('featureId');
    return c.json(
      await setDefaultVersion(getDb(), actor, defaultVersionInput.parse({ ...input, featureId })),
    );
  });

  app.put('/:featureId/holdout', async (c) => {
    const actor = editorActor(c.get('principal'));
    const input = body(await readJsonBody(c.req.raw));
    const featureId = c.req.param('featureId');
    return c.json(await setHoldout(getDb(), actor, holdoutInput.parse({ ...input, featureId })));
  });

  return app;
}
