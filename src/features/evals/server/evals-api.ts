/**
 * Public HTTP API for offline evals (/api/v1/evals), authenticated by API keys: any key reads, an
 * editor key queues. Same services as the console.
 *
 *   GET  /evals                 recent runs
 *   POST /evals                 queue a run { model, dataset?, featureId?, sample, seed?, timeoutMs? } → 202
 *   GET  /evals/:id             one run with progress and metrics
 *   POST /evals/:id/retry       a failed run again, same config → 202
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { Actor } from '~/features/audit/server/audit-service';
import { hasRole } from '~/features/auth/roles';
import type { ApiKeyPrincipal } from '~/features/settings/server/api-key-service';
import type { Db } from '~/server/db';
import { ForbiddenError } from '~/server/errors';
import { readJsonBody } from '~/server/http/read-json-body';
import { evalRequestSchema } from '../config';
import { getEvalRun, listEvalRuns } from './evals-queries';
import { createEvalRun, retryEvalRun } from './evals-service';

type Env = { Variables: { principal: ApiKeyPrincipal } };

const uuid = z.uuid('Eval run ids are UUIDs');

function editorActor(principal: ApiKeyPrincipal): Actor {
  if (!hasRole(principal.role, 'editor'))
    throw new ForbiddenError(
      `Queuing evals needs an editor key; this key acts as ${principal.role}`,
    );
  return { type: 'api_key', userId: principal.userId };
}

export function evalsApi(getDb: () => Db, requireApiKey: MiddlewareHandler<Env>) {
  const app = new Hono<Env>();
  app.use('*', requireApiKey);
  app.get('/', async (c) => c.json(await listEvalRuns(getDb(), { limit: 50 })));
  app.post('/', async (c) => {
    const actor = editorActor(c.get('principal'));
    const body = evalRequestSchema.parse(await readJsonBody(c.req.raw));
    const run = await createEvalRun(getDb(), actor, body);
    return c.json(await getEvalRun(getDb(), run.id), 202);
  });
  app.get('/:id', async (c) => c.json(await getEvalRun(getDb(), uuid.parse(c.req.param('id')))));
  app.post('/:id/retry', async (c) => {
    const actor = editorActor(c.get('principal'));
    const run = await retryEvalRun(getDb(), actor, uuid.parse(c.req.param('id')));
    return c.json(await getEvalRun(getDb(), run.id), 202);
  });
  return app;
}
