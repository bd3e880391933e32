import type { CompletionResult } from './inline-completion';

/** The editor's suggestion socket (server: suggestions-socket.ts). */
export const SOCKET_PATH = '/api/v1/suggestions/socket';
/** An answer later than this means a stalled socket: close it and let fetch take over. */
const ANSWER_TIMEOUT_MS = 5_000;
/** After a failed connection, wait before the next try (doubling, up to the maximum). */
const RETRY_MIN_MS = 2_000;
const RETRY_MAX_MS = 60_000;

type Input = Record<string, unknown>;
interface Pending {
  resolve: (result: CompletionResult) => void;
  reject: (error: Error) => void;
  /** The same request by fetch, when the socket goes away before it answers. */
  fallback: () => void;
}
type ServerMessage =
  | { id: string | null; result: CompletionResult }
  | { id: string | null; error: { code: string; message: string } };

/**
 * One WebSocket per page for inline suggestions, opened lazily and reopened lazily after a
 * failure (with a growing pause, so a server without it, such as `next dev` or plain
 * `next start`, costs one refused attempt now and then). `send` answers null while the socket
 * is not open: the caller uses fetch. A request in flight when the socket closes falls back
 * to fetch; a refusal (the public API's error envelope) rejects, as a 4xx does on fetch.
 */
export class SuggestionSocket {
  private ws: WebSocket | null = null;
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;
  private failures = 0;
  private retryAt = 0;

  constructor(private readonly url: () => string) {}

  /** Opens the socket unless it is open, opening, or waiting after a failure. */
  connect(): void {
    if (this.ws || Date.now() < this.retryAt || typeof WebSocket === 'undefined') return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch {
      return this.failed();
    }
    this.ws = ws;
    ws.onmessage = (event) => this.onMessage(event.data);
    // onerror is always followed by onclose. Any close counts as a failure until an answer came
    // (a socket closed right after opening must not be retried on every keystroke).
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.failed();
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.fallback();
      }
    };
  }

  /** The answer over the socket, or null when it is not open (then use fetch). */
  send(
    input: Input,
    signal: AbortSignal,
    fallback: () => Promise<CompletionResult>,
  ): Promise<CompletionResult> | null {
    this.connect();
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return null;
    const id = String(++this.nextId);
    return new Promise<CompletionResult>((resolve, reject) => {
      const timer = setTimeout(() => ws.close(), ANSWER_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.pending.delete(id);
      };
      const onAbort = () => {
        if (!this.pending.has(id)) return;
        done();
        // A newer keystroke: the server stops this generation.
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'cancel', id }));
        reject(new DOMException('Aborted', 'AbortError'));
      };
      this.pending.set(id, {
        resolve: (result) => (done(), resolve(result)),
        reject: (error) => (done(), reject(error)),
        fallback: () => {
          done();
          fallback().then(resolve, reject);
        },
      });
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        ws.send(JSON.stringify({ type: 'complete', id, input }));
      } catch {
        this.pending.get(id)?.fallback();
      }
    });
  }

  private onMessage(data: unknown): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(String(data)) as ServerMessage;
    } catch {
      return;
    }
    const p = message.id === null ? undefined : this.pending.get(message.id);
    if (!p) return;
    this.failures = 0;
    if ('result' in message) p.resolve(message.result);
    else p.reject(new Error(`No suggestion: ${message.error.code}`));
  }

  private failed(): void {
    this.failures += 1;
    this.retryAt = Date.now() + Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (this.failures - 1));
  }
}

let shared: SuggestionSocket | null = null;

/** The page's one socket, to the page's own origin. */
export function pageSuggestionSocket(): SuggestionSocket {
  shared ??= new SuggestionSocket(() => {
    const { protocol, host } = window.location;
    return `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}${SOCKET_PATH}`;
  });
  return shared;
}
