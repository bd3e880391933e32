/**
 * Public HTTP API for experiments (/api/v1/experiments), authenticated by API keys: any key reads,
 * a key acting as editor or admin changes. Same services as the console.
 *
 *   GET   /experiments[?featureId=&status=]    list
 *   POST  /experiments                         create
 *   GET   /experiments/:id                     one experiment
 *   PATCH /experiments/:id                     edit (with expectedVersion)
 *   POST  /experiments/:id/actions             start | pause | advance | kill | promote
 *   GET   /experiments/:id/results             per-arm results and the verdict
 *   GET   /experiments/:id/history             audit log
 *
 * An edit based on a stale version answers 409 with `current`, the experiment as it is now.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { hasRole } from '~/features/auth/roles';
import type { ApiKeyPrincipal } from '~/features/settings/server/api-key-service';
import type { Db } from '~/server/db';
import { ForbiddenError } from '~/server/errors';
import { readJsonBody } from '~/server/http/read-json-body';
import type { Actor } from '~/features/audit/server/audit-service';
import {
  createExperimentInput,
  EXPERIMENT_STATUSES,
  experimentActionInput,
  updateExperimentInput,
} from '../config';
import {
  actOnExperiment,
  createExperiment,
  experimentHistory,
  getExperiment,
  listExperiments,
  updateExperiment,
} from './experiments-service';
import { experimentResults } from './results-service';

type Env = { Variables: { principal: ApiKeyPrincipal } };

const listQuery = z.object({
  featureId: z.string().max(80).optional(),
  status: z.enum(EXPERIMENT_STATUSES).optional(),
});

const idParam = z.string().uuid('Experiment ids are UUIDs');

function editorActor(principal: ApiKeyPrincipal): Actor {
  if (!hasRole(principal.role, 'editor'))
    throw new ForbiddenError(
      `Changing experiments needs an editor key; this key acts as ${principal.role}`,
    );
  return { type: 'api_key', userId: principal.userId };
}

function body(input: unknown): Record<string, unknown> {
  return typeof input === 'object' && input !== null && !Array.isArray(input)
    ? (input as Record<string, unknown>)
    : {};
}

export function experimentsApi(getDb: () => Db, requireApiKey: MiddlewareHandler<Env>) {
  const app = new Hono<Env>();
  app.use('*', requireApiKey);

  app.get('/', async (c) => c.json(await listExperiments(getDb(), listQuery.parse(c.req.query()))));

  app.post('/', async (c) => {
    const actor = editorActor(c.get('principal'));
    const input = await readJsonBody(c.req.raw);
    return c.json(await createExperiment(getDb(), actor, createExperimentInput.parse(input)), 201);
  });

  app.get('/:id', async (c) =>
    c.json(await getExperiment(getDb(), idParam.parse(c.req.param('id')))),
  );

  app.patch('/:id', async (c) => {
    const actor = editorActor(c.get('principal'));
    const input = body(await readJsonBody(c.req.raw));
    const id = idParam.parse(c.req.param('id'));
    return c.json(
      await updateExperiment(getDb(), actor, updateExperimentInput.parse({ ...input, id })),
    );
  });

  app.post('/:id/actions', async (c) => {
    const actor = editorActor(c.get('principal'));
    const input = body(await readJsonBody(c.req.raw));
    const id = idParam.parse(c.req.param('id'));
    return c.json(
      await actOnExperiment(getDb(), actor, experimentActionInput.parse({ ...input, id })),
    );
  });

  app.get('/:id/results', async (c) =>
    c.json(await experimentResults(getDb(), idParam.parse(c.req.param('id')))),
  );

  app.get('/:id/history', async (c) =>
    c.json(await experimentHistory(getDb(), idParam.parse(c.req.param('id')))),
  );

  return app;
}
