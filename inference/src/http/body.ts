/** Reads a JSON request body: bounded size, strict UTF-8, clear 4xx on anything else. */
import type { IncomingMessage } from 'node:http';
import { ApiError, badRequest } from './errors';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The parsed body; `undefined` for an empty one when `optional` (bodies the API lets out). */
export async function readJson(
  req: IncomingMessage,
  maxBytes: number,
  optional = false,
): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new ApiError(
      413,
      `request body exceeds ${maxBytes} bytes`,
      'invalid_request_error',
      'body_too_large',
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) {
      throw new ApiError(
        413,
        `request body exceeds ${maxBytes} bytes`,
        'invalid_request_error',
        'body_too_large',
      );
    }
    chunks.push(buf);
  }
  let text: string;
  try {
    text = utf8.decode(Buffer.concat(chunks));
  } catch {
    throw badRequest('request body is not valid UTF-8', null, 'invalid_utf8');
  }
  if (text.trim() === '' && optional) return undefined;
  if (text.trim() === '')
    throw badRequest('request body is empty; expected a JSON object', null, 'invalid_json');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const detail = err instanceof Error ? err.message : 'parse error';
    throw badRequest(`request body is not valid JSON: ${detail}`, null, 'invalid_json');
  }
}
