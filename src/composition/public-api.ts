import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { datasetsApi } from '~/features/datasets/server/datasets-api';
import { evalsApi } from '~/features/evals/server/evals-api';
import { experimentsApi } from '~/features/experiments/server/experiments-api';
import { featuresApi } from '~/features/experiments/server/features-api';
import { modelsApi } from '~/features/models/server/models-api';
import { ingestFeedbackBody } from '~/features/feedback/server/ingest-service';
import {
  authenticateApiKey,
  type ApiKeyPrincipal,
} from '~/features/settings/server/api-key-service';
import { suggestAny } from '~/features/suggestions/server/suggestions-service';
import { suggestionsApi } from '~/features/suggestions/server/suggestions-api';
import { suggestionRuntime } from '~/features/suggestions/server/suggestions-runtime';
import type { Db } from '~/server/db';
import { DomainError } from '~/server/errors';
import { metricsRegistry } from '~/server/metrics';
import { endUserLimits, unitIdOf } from '~/server/rate-limit';
import { errorResponse } from '~/server/http/error-response';
import { readJsonBody } from '~/server/http/read-json-body';
import { createRequestContext } from './request-context';

/** 500 events of a few hundred bytes each fit comfortably. */
const FEEDBACK_MAX_BODY_BYTES = 1024 * 1024;

export type PublicApiEnv = { Variables: { principal: ApiKeyPrincipal } };

/**
 * An API key acts for a server that speaks for many end users from one address, so only each
 * unit is limited here, not the address or the key's owner.
 */
function limitUnit(body: unknown) {
  return endUserLimits().check({ address: null, unitId: unitIdOf(body), userId: null });
}

/**
 * The versioned HTTP API for non-browser clients (/api/v1), authenticated by API keys.
 * One onError turns every failure into the error answer of errorResponse.
 */
export function createPublicApi(getDb: () => Db) {
  const app = new Hono<PublicApiEnv>().basePath('/api/v1');

  const requireApiKey = createMiddleware<PublicApiEnv>(async (c, next) => {
    const key = c.req.header('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
    c.set('principal', await authenticateApiKey(getDb(), key));
    await next();
  });

  app.get('/me', requireApiKey, (c) => {
    const { keyId, userId, role } = c.get('principal');
    return c.json({ keyId, userId, role });
  });

  // Feedback ingest for non-browser clients: the same body and service as tRPC feedback.ingest.
  app.post(
    '/feedback',
    requireApiKey,
    bodyLimit({
      maxSize: FEEDBACK_MAX_BODY_BYTES,
      onError: () => {
        throw new DomainError('PAYLOAD_TOO_LARGE', `Send at most ${FEEDBACK_MAX_BODY_BYTES} bytes`);
      },
    }),
    async (c) => {
      const body = await readJsonBody(c.req.raw);
      await limitUnit(body);
      return c.json(await ingestFeedbackBody(getDb(), body));
    },
  );

  // A suggestion for non-browser clients: the body of suggestions.complete, or of a rewrite
  // (featureId "rewrite", answered whole). Backend trouble degrades to a fallback tier, never 5xx.
  app.post('/suggestions', requireApiKey, async (c) => {
    const body = await readJsonBody(c.req.raw);
    await limitUnit(body);
    const { response } = await suggestAny(suggestionRuntime(getDb()), body, c.req.raw.signal);
    return c.json(response);
  });

  // End users in a browser (session or anonymous, as tRPC's endUserProcedure): the rewrite stream.
  app.route(
    '/suggestions',
    suggestionsApi({ getDb, getUser: (headers) => createRequestContext(headers).getUser() }),
  );
  app.route('/experiments', experimentsApi(getDb, requireApiKey));
  app.route('/features', featuresApi(getDb, requireApiKey));
  app.route('/datasets', datasetsApi(getDb, requireApiKey));
  app.route('/evals', evalsApi(getDb, requireApiKey));
  app.route('/models', modelsApi(getDb, requireApiKey));

  // Prometheus scrape (any API key): writer backlog, unrecorded generations, process figures.
  app.get('/metrics', requireApiKey, async (c) => {
    const registry = metricsRegistry();
    return c.body(await registry.metrics(), 200, { 'content-type': registry.contentType });
  });

  app.notFound((c) =>
    errorResponse(new DomainError('NOT_FOUND', `No route ${c.req.method} ${c.req.path}`)),
  );
  app.onError((err) => errorResponse(err, 'public API'));
  return app;
}
