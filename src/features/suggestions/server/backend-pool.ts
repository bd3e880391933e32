/**
 * The OpenAI-compatible backends (INFERENCE_BACKENDS): one client and one circuit breaker each.
 * Routing skips open circuits and keeps a unit on its rendezvous-hashed backend, so a user's
 * keystrokes reuse that backend's prefix cache.
 */
import OpenAI from 'openai';
import { CircuitBreaker, type CircuitSnapshot } from './circuit-breaker';
import { rendezvousOrder } from './rendezvous';
import { probeKeepsStopStrings } from './stop-probe';

// A probe that could not reach the backend is tried again after this long.
const PROBE_RETRY_MS = 30_000;

export interface Backend {
  url: string;
  client: OpenAI;
  breaker: CircuitBreaker;
  /** Model ids it serves (from /v1/models); null until listed, then it is assumed to serve all. */
  models: Set<string> | null;
  lastListedAt: number | null;
  /** Whether it keeps matched stop strings when asked (stop-probe.ts); null until probed. */
  keepsStopStrings: boolean | null;
  /**
   * Whether it takes vLLM's `truncate_prompt_tokens` (the worker and vLLM do). Assumed until it
   * rejects a request naming the field (OpenAI answers 400 to unknown arguments); then never sent.
   */
  takesPromptTruncation: boolean;
  probe: { running: boolean; retryAt: number };
}

export interface BackendPoolOptions {
  failureThreshold: number;
  cooldownMs: number;
  now?: () => number;
  fetch?: typeof fetch;
}

export interface BackendStatus extends CircuitSnapshot {
  url: string;
  models: string[] | null;
}

export class BackendPool {
  readonly backends: Backend[];

  constructor(urls: readonly string[], options: BackendPoolOptions) {
    this.backends = urls.map((url) => ({
      url: url.replace(/\/+$/, ''),
      client: new OpenAI({
        baseURL: `${url.replace(/\/+$/, '')}/v1`,
        // Our own servers need no key; a hosted API would get one through its own config.
        apiKey: 'unused',
        // Never retry: a retry would spend the latency budget the fallbacks need.
        maxRetries: 0,
        fetch: options.fetch,
      }),
      breaker: new CircuitBreaker({
        failureThreshold: options.failureThreshold,
        cooldownMs: options.cooldownMs,
        now: options.now,
      }),
      models: null,
      lastListedAt: null,
      keepsStopStrings: null,
      takesPromptTruncation: true,
      probe: { running: false, retryAt: 0 },
    }));
  }

  /**
   * Finds out, in the background, whether `backend` keeps matched stop strings (asking with
   * `model`), unless that is known or being found out; the answer lands in `keepsStopStrings`.
   * Called after an answer, so the probe never delays the request that started it.
   */
  probeStopStrings(backend: Backend, model: string): void {
    const { probe } = backend;
    if (backend.keepsStopStrings !== null || probe.running || Date.now() < probe.retryAt) return;
    probe.running = true;
    void probeKeepsStopStrings(backend.client, model)
      .then(
        (keeps) => (backend.keepsStopStrings = keeps),
        () => (probe.retryAt = Date.now() + PROBE_RETRY_MS),
      )
      .finally(() => (probe.running = false));
  }

  /** Backends that may take a request for `model` now, best first for `unitId`. */
  route(model: string, unitId: string): Backend[] {
    const candidates = this.backends.filter(
      (b) => b.breaker.isAvailable() && (b.models === null || b.models.has(model)),
    );
    return rendezvousOrder(unitId, candidates, (b) => b.url);
  }

  /** Asks every backend for its models (GET /v1/models); unreachable ones are skipped. */
  async listModels(
    timeoutMs = 2000,
  ): Promise<{ backend: string; ids: { id: string; root: string | null }[] }[]> {
    const lists = await Promise.all(
      this.backends.map(async (b) => {
        try {
          const page = await b.client.models.list({ timeout: timeoutMs });
          const ids = page.data.map((m) => {
            // `root` is a vLLM/worker extension: the versioned id an alias points at.
            const root: unknown = (m as unknown as Record<string, unknown>).root;
            return { id: m.id, root: typeof root === 'string' ? root : null };
          });
          b.models = new Set(ids.map((m) => m.id));
          b.lastListedAt = Date.now();
          return { backend: b.url, ids };
        } catch {
          return null;
        }
      }),
    );
    return lists.filter((l) => l !== null);
  }

  status(): BackendStatus[] {
    return this.backends.map((b) => ({
      url: b.url,
      models: b.models ? [...b.models].sort() : null,
      ...b.breaker.snapshot(),
    }));
  }
}
