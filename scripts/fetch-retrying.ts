/**
 * fetch, sent again when the connection failed before an answer came. A CLI that calls the app
 * after minutes of work (npm run distill registers after training) meets kept-alive sockets the
 * server has closed meanwhile (EPIPE, ECONNRESET, "other side closed"); a new attempt opens a new
 * connection. Only for idempotent calls (a registration with the same digest is one). HTTP
 * answers, errors included, are returned as they are.
 */
const NETWORK =
  /EPIPE|ECONNRESET|ECONNREFUSED|UND_ERR_SOCKET|UND_ERR_CLOSED|other side closed|socket hang up/i;

function networkFailure(error: unknown): string | null {
  if (!(error instanceof TypeError)) return null;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const text = `${cause?.code ?? ''} ${cause?.message ?? ''} ${error.message}`;
  return NETWORK.test(text) ? text.trim() : null;
}

export async function fetchRetrying(
  url: string,
  init: RequestInit,
  options: { attempts?: number; backoffMs?: number; onRetry?: (why: string) => void } = {},
): Promise<Response> {
  const attempts = options.attempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (error) {
      const why = networkFailure(error);
      if (!why || attempt >= attempts) throw error;
      options.onRetry?.(why);
      await new Promise((r) => setTimeout(r, (options.backoffMs ?? 250) * 2 ** (attempt - 1)));
    }
  }
}
