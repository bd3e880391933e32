import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import {
  authenticateApiKey,
  type ApiKeyPrincipal,
} from '~/features/settings/server/api-key-service';
import type { Db } from '../db';
import { toPublicError } from '../errors';

export type PublicApiEnv = { Variables: { principal: ApiKeyPrincipal } };

/**
 * The versioned HTTP API for non-browser clients (/api/v1), authenticated by API keys.
 * One onError turns every failure into `{ error: { code, message } }` with the mapped status.
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

  app.notFound((c) =>
    c.json(
      { error: { code: 'NOT_FOUND', message: `No route ${c.req.method} ${c.req.path}` } },
      404,
    ),
  );
  app.onError((err, c) => {
    const error = toPublicError(err);
    if (error.status >= 500) console.error('public API failed:', err);
    return c.json(
      { error: { code: error.code, message: error.message, fieldErrors: error.fieldErrors } },
      error.status as 400,
    );
  });
  return app;
}
