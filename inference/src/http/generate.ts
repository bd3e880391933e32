/**
 * Runs the n choices of one request on a model's engine: submission, detokenization with
 * stop sequences, cancellation when the client goes away, latency metrics.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { OverloadedError } from '../engine/engine-client';
import type { EmittedLogprob, FinishReason, SequenceStats } from '../engine/protocol';
import type { SamplingParams } from '../engine/sampler';
import { Detokenizer } from '../models/detokenizer';
import type { ServedModel } from './context';
import { ApiError } from './errors';
import type { WorkerMetrics } from './metrics';
import type { RequestTrace } from '../tracing/types';

/** One prompt of a request; each gets `n` choices (choice index = prompt index × n + j). */
export interface PromptJob {
  prompt: number[];
  maxTokens: number;
}

export interface GenerateOptions {
  served: ServedModel;
  prompts: PromptJob[];
  sampling: SamplingParams;
  seed: number | null;
  n: number;
  stops: string[];
  /** Keep the stop sequence that ended a choice at the end of its text. */
  includeStop: boolean;
  logprobs: number | null;
  /** Score every prompt token with this many top logprobs (echo + logprobs), or null. */
  promptLogprobs: number | null;
  prediction: number[] | null;
  speculate: boolean;
  ignoreEos: boolean;
  signal: AbortSignal;
  metrics: WorkerMetrics;
  /** The request's trace (null: tracing off, nothing recorded). */
  trace?: RequestTrace | null;
  /**
   * Streaming: called once per choice before any of its text, when its prompt is admitted
   * (with the prompt tokens' scores, tokens 1.., when `promptLogprobs` is set: null otherwise).
   */
  onPrompt?: (choice: number, scores: TokenInfo[] | null) => void;
  /** Streaming: called with each releasable piece of text. */
  onDelta?: (choice: number, text: string, logprobs: TokenInfo[]) => void;
}

export interface TokenInfo {
  id: number;
  logprob: number;
  top: { id: number; logprob: number }[];
}

export interface ChoiceResult {
  index: number;
  /** Which prompt of the request this choice continues. */
  promptIndex: number;
  /** Scores of prompt tokens 1.. (when `promptLogprobs` was asked), else null. */
  promptLogprobs: TokenInfo[] | null;
  text: string;
  logprobs: TokenInfo[];
  finishReason: 'stop' | 'length';
  completionTokens: number;
  /** Prompt tokens served from the prefix cache. */
  cachedTokens: number;
}

export class ClientGoneError extends Error {}

/** OpenAI's `usage`: each prompt counts once, whatever its number of choices. */
export function usageOf(prompts: readonly PromptJob[], results: readonly ChoiceResult[]) {
  const promptTokens = prompts.reduce((s, p) => s + p.prompt.length, 0);
  const completionTokens = results.reduce((s, r) => s + r.completionTokens, 0);
  const cached = prompts.reduce((sum, _, p) => {
    const mine = results.filter((r) => r.promptIndex === p).map((r) => r.cachedTokens);
    return sum + (mine.length > 0 ? Math.min(...mine) : 0);
  }, 0);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cached },
  };
}

interface ChoiceSpec {
  index: number;
  promptIndex: number;
  job: PromptJob;
  seed: number;
  started: number;
}

function runChoice(
  opts: GenerateOptions,
  { index, promptIndex, job, seed, started }: ChoiceSpec,
): {
  promise: Promise<ChoiceResult>;
  cancel: () => void;
} {
  const { served, metrics } = opts;
  const model = served.version.id;
  const detok = new Detokenizer(
    (ids) => served.tokenizer.decode(ids),
    opts.stops,
    opts.onDelta !== undefined,
    { includeStop: opts.includeStop },
  );
  const infos: TokenInfo[] = [];
  const scoring = opts.promptLogprobs !== null;
  const promptScores: TokenInfo[] = [];
  let promptDone = false;
  const promptReady = () => {
    if (promptDone || promptScores.length < job.prompt.length - 1) return;
    promptDone = true;
    opts.onPrompt?.(index, scoring ? promptScores : null);
  };
  let cancel: () => void = () => undefined;
  let lastTokenAt = 0;
  let cachedTokens = 0;
  let resolve: (r: ChoiceResult) => void = () => undefined;
  let reject: (e: unknown) => void = () => undefined;
  const promise = new Promise<ChoiceResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const submitted = performance.now();
  const submittedAt = opts.trace ? performance.timeOrigin + submitted : 0;
  // Outside the promise executor, so an OverloadedError reaches the caller synchronously.
  cancel = served.engine.submit(
    {
      id: randomUUID(),
      prompt: job.prompt,
      maxTokens: job.maxTokens,
      sampling: opts.sampling,
      seed,
      // The choice's number within its prompt: a prompt samples alike alone or in a batch.
      stream: index - promptIndex * opts.n,
      logprobs: opts.logprobs,
      prediction: opts.prediction,
      speculate: opts.speculate,
      ignoreEos: opts.ignoreEos,
      promptLogprobs: opts.promptLogprobs,
    },
    {
      onAdmitted: (cached) => {
        cachedTokens = cached;
        metrics.queueTime.observe({ model }, (performance.now() - submitted) / 1000);
        metrics.prefixHitTokens.inc({ model }, cached);
        promptReady(); // at once unless prompt scores are still to come
      },
      onPromptLogprobs: (scores) => {
        promptScores.push(
          ...scores.map((x, j) => ({
            ...x,
            id: job.prompt[promptScores.length + j + 1] as number,
          })),
        );
        promptReady();
      },
      onTokens: (tokens, logprobs: EmittedLogprob[] | null) => {
        const now = performance.now();
        if (lastTokenAt === 0) metrics.ttft.observe({ model }, (now - started) / 1000);
        else metrics.itl.observe({ model }, (now - lastTokenAt) / 1000 / tokens.length);
        lastTokenAt = now;
        if (detok.stopped) return;
        const before = detok.tokenCount;
        const text = detok.push(tokens);
        const used = detok.tokenCount - before;
        const fresh: TokenInfo[] = tokens.slice(0, used).map((id, j) => ({
          id,
          logprob: logprobs?.[j]?.logprob ?? 0,
          top: logprobs?.[j]?.top ?? [],
        }));
        if (logprobs) infos.push(...fresh);
        if (text !== '' || (logprobs && fresh.length > 0))
          opts.onDelta?.(index, text, logprobs ? fresh : []);
        if (detok.stopped) cancel();
      },
      onDone: (reason: FinishReason, message?: string, stats?: SequenceStats) => {
        metrics.generatedTokens.inc({ model }, detok.tokenCount);
        opts.trace?.choice({
          index,
          submittedAt,
          stats,
          promptTokens: job.prompt.length,
          cachedTokens,
          completionTokens: detok.tokenCount,
        });
        if (reason === 'error') {
          reject(
            new ApiError(500, message ?? 'generation failed', 'server_error', 'generation_error'),
          );
          return;
        }
        if (reason === 'cancelled' && !detok.stopped) {
          reject(new ClientGoneError('cancelled'));
          return;
        }
        const tail = detok.flush();
        if (tail !== '') opts.onDelta?.(index, tail, []);
        resolve({
          index,
          promptIndex,
          promptLogprobs: scoring ? promptScores : null,
          text: detok.output,
          logprobs: infos,
          finishReason: detok.stopped || reason !== 'length' ? 'stop' : 'length',
          completionTokens: detok.tokenCount,
          cachedTokens,
        });
      },
    },
  );
  return { promise, cancel };
}

/** Generates every choice; rejects with ApiError (503 when overloaded) or ClientGoneError. */
export async function generate(opts: GenerateOptions): Promise<ChoiceResult[]> {
  const seed = opts.seed ?? randomInt(0, 2 ** 47);
  const started = performance.now();
  const runs: { promise: Promise<ChoiceResult>; cancel: () => void }[] = [];
  const cancelAll = () => runs.forEach((r) => r.cancel());
  try {
    opts.prompts.forEach((job, promptIndex) => {
      for (let j = 0; j < opts.n; j++) {
        const index = promptIndex * opts.n + j;
        runs.push(runChoice(opts, { index, promptIndex, job, seed, started }));
      }
    });
  } catch (err) {
    cancelAll();
    await Promise.allSettled(runs.map((r) => r.promise));
    if (err instanceof OverloadedError) {
      throw new ApiError(
        503,
        `server overloaded: ${err.message}`,
        'server_error',
        'overloaded',
        null,
        {
          'retry-after': '1',
        },
      );
    }
    throw err;
  }
  opts.signal.addEventListener('abort', cancelAll, { once: true });
  if (opts.signal.aborted) cancelAll();
  const promptTokens = opts.prompts.reduce((sum, p) => sum + p.prompt.length, 0);
  opts.metrics.promptTokens.inc({ model: opts.served.version.id }, promptTokens * opts.n);
  try {
    const results = await Promise.all(runs.map((r) => r.promise));
    return results;
  } catch (err) {
    cancelAll();
    await Promise.allSettled(runs.map((r) => r.promise));
    throw err;
  } finally {
    opts.signal.removeEventListener('abort', cancelAll);
  }
}
