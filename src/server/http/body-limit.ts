import { DomainError } from '../errors';
import { errorResponse } from './error-response';

export const MAX_TRPC_BODY_BYTES = 1024 * 1024;

export function payloadTooLarge(maxBytes: number): Response {
  return errorResponse(
    new DomainError('PAYLOAD_TOO_LARGE', `Request bodies are limited to ${maxBytes} bytes`),
  );
}

/**
 * Refuses bodies over `maxBytes` before anything parses them: at once when Content-Length says
 * so, otherwise (chunked uploads) by failing the body stream past the limit, which the reader
 * reports as a bad request.
 */
export function limitBody(req: Request, maxBytes: number): Request | Response {
  const declared = Number(req.headers.get('content-length') ?? 0);
  if (declared > maxBytes) return payloadTooLarge(maxBytes);
  if (!req.body) return req;
  let seen = 0;
  const counted = req.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) controller.error(new Error(`body over ${maxBytes} bytes`));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Request(req, { body: counted, duplex: 'half' } as RequestInit);
}
