/** Errors in OpenAI's shape: {error: {message, type, param, code}}. */
import type { ServerResponse } from 'node:http';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = 'invalid_request_error',
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (
  message: string,
  param: string | null = null,
  code: string | null = null,
) => new ApiError(400, message, 'invalid_request_error', code, param);

export function errorBody(err: ApiError) {
  return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  sendJson(res, err.status, errorBody(err), err.headers);
}

/** Any thrown value as an ApiError (unknown ones become a 500 without internals). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(500, 'internal error', 'server_error', 'internal_error');
}
