/**
 * The product's own HTTP API as the closed-loop demo drives it: an API key made through the
 * settings router after signing in (as a person would in the console), then /api/v1 for datasets,
 * model versions, evals and experiments. Errors carry the API's own message.
 */
import { createTRPCUntypedClient, httpLink } from '@trpc/client';
import superjson from 'superjson';

export class ProductApiError extends Error {
  override name = 'ProductApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Signs in with email and password (Better Auth) and returns the session cookie. */
export async function signIn(baseUrl: string, email: string, password: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: baseUrl },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok)
    throw new ProductApiError(
      response.status,
      `Signing in as ${email} failed (${response.status}): ${await response.text()}`,
    );
  const cookies = response.headers.getSetCookie().map((c) => c.split(';')[0]);
  if (cookies.length === 0) throw new ProductApiError(500, 'Signing in set no session cookie');
  return cookies.join('; ');
}

/** Makes an API key through the settings router, as Settings → API keys does. */
export async function createApiKey(
  baseUrl: string,
  cookie: string,
  input: { name: string; role: 'viewer' | 'editor' | 'admin' },
): Promise<string> {
  const client = createTRPCUntypedClient({
    links: [
      httpLink({
        url: `${baseUrl}/api/trpc`,
        transformer: superjson,
        headers: () => ({ cookie, origin: baseUrl }),
      }),
    ],
  });
  const created = (await client.mutation('settings.apiKeys.create', input)) as { key: string };
  return created.key;
}

export class ProductApi {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const request = () =>
        fetch(`${this.baseUrl}/api/v1${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.apiKey}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      // A kept-alive socket the server closed meanwhile fails the write (EPIPE, ECONNRESET, or
      // undici's UND_ERR_SOCKET "other side closed") before the request reached the app: sent
      // again once, on a new connection.
      const response = await request().catch((error: Error & { cause?: { code?: string } }) => {
        if (!['EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(error.cause?.code ?? ''))
          throw error;
        return request();
      });
      if (response.status === 429 && attempt < 5) {
        await sleep(1000 * Number(response.headers.get('retry-after') ?? 1));
        continue;
      }
      const text = await response.text();
      if (!response.ok) {
        let message = text;
        try {
          const parsed = JSON.parse(text) as { error?: { message?: string } };
          message = parsed.error?.message ?? text;
        } catch {
          // not JSON: the text is the message
        }
        throw new ProductApiError(
          response.status,
          `${method} ${path}: ${response.status} ${message}`,
        );
      }
      return (text ? JSON.parse(text) : null) as T;
    }
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }
  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>('POST', path, body);
  }
  put<T>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>('PUT', path, body);
  }

  /** A file of a dataset version, as text (train.jsonl, eval.jsonl, manifest.json, README.md). */
  async datasetFile(versionId: string, file: string): Promise<string> {
    const response = await fetch(
      `${this.baseUrl}/api/v1/datasets/versions/${versionId}/files/${file}`,
      { headers: { authorization: `Bearer ${this.apiKey}` } },
    );
    if (!response.ok)
      throw new ProductApiError(
        response.status,
        `${file}: ${response.status} ${await response.text()}`,
      );
    return response.text();
  }

  /** Polls `get(path)` until `done` says so; `onPoll` sees every answer. */
  async until<T>(
    path: string,
    done: (value: T) => boolean,
    options: { timeoutMs: number; everyMs?: number; onPoll?: (value: T) => void },
  ): Promise<T> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const value = await this.get<T>(path);
      options.onPoll?.(value);
      if (done(value)) return value;
      if (Date.now() > deadline)
        throw new ProductApiError(
          504,
          `${path} did not finish within ${options.timeoutMs / 1000} s`,
        );
      await sleep(options.everyMs ?? 1000);
    }
  }
}
