import { toPublicError } from '../errors';
import { retryAfterOf } from '../rate-limit';

/**
 * The one error answer of the HTTP routes (tRPC has its own envelope, from the same
 * toPublicError): `{ error: { code, message, fieldErrors? }, current? }` with the mapped status,
 * `current` being the record as it is now when an edit was based on a stale version, and
 * Retry-After on a 429. Unexpected errors are logged under `where` and masked.
 */
export function errorResponse(error: unknown, where = 'HTTP route'): Response {
  const { status, body } = errorBody(error, where);
  const retryAfter = retryAfterOf(error);
  return Response.json(body, {
    status,
    headers: retryAfter ? { 'retry-after': String(retryAfter) } : {},
  });
}

/** The envelope of errorResponse and its status (the suggestion socket sends the same body). */
export function errorBody(error: unknown, where = 'HTTP route') {
  const e = toPublicError(error);
  if (e.status >= 500) console.error(`${where} failed:`, error);
  const body = {
    error: {
      code: e.code,
      message: e.message,
      ...(e.fieldErrors ? { fieldErrors: e.fieldErrors } : {}),
    },
    ...(e.current !== undefined ? { current: e.current } : {}),
  };
  return { status: e.status, body };
}
