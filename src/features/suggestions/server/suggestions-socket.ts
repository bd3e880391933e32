/**
 * The editor's inline suggestions over one WebSocket per page (GET /api/v1/suggestions/socket,
 * upgraded by scripts/serve-next.mjs through composition/before-next.ts): the same call as
 * POST /api/v1/suggestions/complete (endUserCompleter: admission, rate limits and service) without
 * a request per keystroke. Text messages of JSON:
 *   → {"type":"complete","id":"…","input":{featureId,unitId,textBefore,textAfter}}
 *   → {"type":"cancel","id":"…"}     (a newer keystroke: aborts that request's generation)
 *   ← {"id":"…","result":{…the answer of POST /complete…}}
 *   ← {"id":"…"|null,"error":{code,message,fieldErrors?}}   (the public API's envelope)
 * A cancelled request gets no answer. Bad input is answered with an error and the socket stays
 * open; only a message over MAX_MESSAGE_BYTES closes it (ws closes with 1009).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { z } from 'zod';
import { DomainError } from '~/server/errors';
import { errorBody } from '~/server/http/error-response';
import { assertStorableText } from '~/server/input-hygiene';
import { endUserCompleter, type SuggestionsApiDeps } from './suggestions-api';

export const SOCKET_PATH = '/api/v1/suggestions/socket';
/** As the HTTP route's body limit: the inputs' own limits with room for JSON escapes. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** The editor has one request in flight; a few more cover a cancel still on its way. */
export const MAX_IN_FLIGHT = 4;
/** A client that stops reading gets no new work until its answers drain. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

const requestId = z.string().min(1).max(64);
export const clientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('complete'), id: requestId, input: z.unknown() }),
  z.object({ type: z.literal('cancel'), id: requestId }),
]);

export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

/**
 * Browsers send cookies with a WebSocket from any site and no CORS check applies, so a page of
 * another origin could otherwise act with the writer's session: only the app's own origin.
 */
function sameOrigin(headers: Headers): boolean {
  const origin = headers.get('origin');
  if (!origin) return true; // not a browser
  try {
    return new URL(origin).host === headers.get('host');
  } catch {
    return false;
  }
}

export function suggestionsSocket(deps: SuggestionsApiDeps): UpgradeListener {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
  });
  const completer = endUserCompleter(deps);
  return (req, socket, head) => {
    const headers = headersOf(req);
    if (!sameOrigin(headers)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, headers, completer));
  };
}

function serveSocket(
  ws: WebSocket,
  headers: Headers,
  completer: ReturnType<typeof endUserCompleter>,
): void {
  const inFlight = new Map<string, AbortController>();
  const send = (message: object) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };

  // binaryType stays ws's default 'nodebuffer': every message is one Buffer.
  const onMessage = async (data: RawData, isBinary: boolean) => {
    let id: string | null = null;
    let controller: AbortController | undefined;
    try {
      if (isBinary) throw new DomainError('BAD_REQUEST', 'Send text messages of JSON');
      let raw: unknown;
      try {
        raw = JSON.parse((data as Buffer).toString('utf8'));
      } catch {
        throw new DomainError('BAD_REQUEST', 'Each message must be JSON');
      }
      const rawId = (raw as { id?: unknown } | null)?.id;
      id = typeof rawId === 'string' ? rawId.slice(0, 64) : null;
      assertStorableText(raw);
      const message = clientMessage.parse(raw);
      if (message.type === 'cancel') {
        inFlight.get(message.id)?.abort();
        inFlight.delete(message.id);
        return;
      }
      if (inFlight.has(message.id))
        throw new DomainError('BAD_REQUEST', `Request ${message.id} is already in flight`);
      if (inFlight.size >= MAX_IN_FLIGHT || ws.bufferedAmount > MAX_BUFFERED_BYTES)
        throw new DomainError(
          'TOO_MANY_REQUESTS',
          `At most ${MAX_IN_FLIGHT} suggestions in flight per socket: cancel one first`,
        );
      controller = new AbortController();
      inFlight.set(message.id, controller);
      try {
        const result = await completer.complete({
          headers,
          body: message.input,
          signal: controller.signal,
        });
        if (!controller.signal.aborted) send({ id, result });
      } finally {
        if (inFlight.get(message.id) === controller) inFlight.delete(message.id);
      }
    } catch (error) {
      if (controller?.signal.aborted) return; // cancelled: no answer
      send({ id, ...errorBody(error, 'suggestions socket').body });
    }
  };

  ws.on('message', (data, isBinary) => void onMessage(data, isBinary));
  // Closed or broken (ws closes an oversized message with 1009): stop every generation.
  ws.on('close', () => {
    for (const controller of inFlight.values()) controller.abort();
    inFlight.clear();
  });
  ws.on('error', () => ws.terminate());
}
