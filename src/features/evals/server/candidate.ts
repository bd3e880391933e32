/**
 * The candidate model version, reached only through the OpenAI-compatible API of the backends the
 * gateway uses (the suggestions domain's BackendPool and its streamed call), so any backend that
 * serves the version can be evaluated. Circuit breakers are neither consulted nor fed: an eval
 * must reach the candidate even while the gateway avoids it, and its slow calls are not outages.
 */
import OpenAI from 'openai';
import type { Backend, BackendPool } from '~/features/suggestions/server/backend-pool';
import { BackendCallError, callBackend } from '~/features/suggestions/server/backend-call';
import { sentenceCut } from '~/features/suggestions/server/gateway';
import { newTraceContext } from '~/features/suggestions/server/trace-context';
import type { EvalConfig } from '../config';
import { keptLogLikelihood, type EchoLogprobs, type KeptLikelihood } from '../scores';

/** The run cannot go on: the candidate's backend is down, or refuses what every example needs. */
export class CandidateUnavailable extends Error {
  override name = 'CandidateUnavailable';
}

export interface CandidateAnswer {
  text: string;
  latencyMs: number;
  ttftMs: number | null;
  backend: string;
}

const RETRIES = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Candidate {
  private backends: Backend[] = [];

  constructor(
    private readonly pool: BackendPool,
    private readonly config: EvalConfig,
  ) {}

  private get model() {
    return this.config.model.backendModel;
  }

  /** Finds the backends that serve the candidate; says why not when none does. */
  async connect(): Promise<void> {
    const urls = this.pool.backends.map((b) => b.url);
    if (urls.length === 0)
      throw new CandidateUnavailable(
        'No inference backend is configured (INFERENCE_BACKENDS is empty)',
      );
    const lists = await this.pool.listModels(5_000);
    if (lists.length === 0)
      throw new CandidateUnavailable(
        `The candidate's backend is down: ${urls.join(', ')} did not answer GET /v1/models`,
      );
    const serving = new Set(
      lists.filter((l) => l.ids.some((m) => m.id === this.model)).map((l) => l.backend),
    );
    this.backends = this.pool.backends.filter((b) => serving.has(b.url));
    if (this.backends.length === 0)
      throw new CandidateUnavailable(
        `No backend serves "${this.model}" (served: ${[...new Set(lists.flatMap((l) => l.ids.map((m) => m.id)))].join(', ') || 'nothing'})`,
      );
  }

  /** Calls `attempt` on the backends in turn, retrying transient failures; throws when all fail. */
  private async withBackends<T>(
    what: string,
    attempt: (backend: Backend) => Promise<T>,
  ): Promise<T> {
    let last = '';
    for (let round = 0; round <= RETRIES; round++) {
      if (round > 0) await sleep(250 * 2 ** round);
      for (const backend of this.backends) {
        try {
          return await attempt(backend);
        } catch (error) {
          const failure =
            error instanceof BackendCallError
              ? error
              : new BackendCallError(
                  'error',
                  error instanceof Error ? error.message : String(error),
                );
          last = `${backend.url}: ${failure.message}`;
          // A 4xx is about the request, not the backend: asking again would not help.
          if (failure.kind === 'rejected')
            throw new CandidateUnavailable(`The candidate refused ${what} (${last})`);
        }
      }
    }
    throw new CandidateUnavailable(
      `The candidate's backend failed ${what} ${RETRIES + 1} times (${last})`,
    );
  }

  /** The suggestion the feature would ask for, with its params (as the gateway sends them). */
  complete(prompt: string, seed: number): Promise<CandidateAnswer> {
    const { params } = this.config;
    return this.withBackends('a completion', async (backend) => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), params.timeoutMs);
      const started = performance.now();
      try {
        const out = await callBackend(
          backend,
          {
            model: this.model,
            prompt,
            maxTokens: params.maxTokens,
            stop: params.stop,
            temperature: params.temperature,
            seed,
            traceparent: newTraceContext().traceparent,
            signal: controller.signal,
            timeoutMs: params.timeoutMs,
            onDelta: (_piece, soFar) => params.stopAtSentenceEnd && sentenceCut(soFar) !== null,
          },
          () => false,
        );
        const latencyMs = performance.now() - started;
        const text = params.stopAtSentenceEnd ? (sentenceCut(out.text) ?? out.text) : out.text;
        return { text, latencyMs, ttftMs: out.ttftMs, backend: backend.url };
      } finally {
        clearTimeout(timer);
      }
    });
  }

  /**
   * Log-likelihood of `kept` after `prompt`: `POST /v1/completions` with the two joined, `echo`,
   * `logprobs: 0` and `max_tokens: 0`, then the kept text's tokens summed (scores.ts). A backend
   * that cannot echo prompt logprobs gives a reason, not a failed run.
   */
  async keptLikelihood(prompt: string, kept: string): Promise<KeptLikelihood> {
    const full = prompt + kept;
    try {
      return await this.withBackends('an echo of the kept text', async (backend) => {
        try {
          const response = await backend.client.completions.create(
            { model: this.model, prompt: full, echo: true, logprobs: 0, max_tokens: 0 },
            { timeout: this.config.params.timeoutMs },
          );
          const logprobs = response.choices[0]?.logprobs as EchoLogprobs | null | undefined;
          return keptLogLikelihood(logprobs, {
            contextChars: prompt.length,
            totalChars: full.length,
          });
        } catch (error) {
          if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
            const message = `HTTP ${error.status}: ${error.message}`.slice(0, 300);
            const kind =
              error.status === 503 || error.status === 429
                ? 'overloaded'
                : error.status < 500
                  ? 'rejected'
                  : 'error';
            throw new BackendCallError(kind, message);
          }
          throw error;
        }
      });
    } catch (error) {
      // A refusal (e.g. no echo support, or a text longer than the context) costs this metric only.
      if (
        error instanceof CandidateUnavailable &&
        error.message.startsWith('The candidate refused')
      )
        return { ok: false, reason: error.message };
      throw error;
    }
  }
}
