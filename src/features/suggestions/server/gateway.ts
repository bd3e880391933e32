/**
 * The gateway: answers one suggestion within the feature's latency budget by walking its fallback
 * chain (model → smaller model → n-gram → nothing) and says which tier answered. It never throws
 * for backend trouble: timeouts, errors, open circuits and overload all mean "next step".
 */
import { preparedCorpus, suggestNgram } from '~/lib/ngram-suggester';
import type { BackendPool } from './backend-pool';
import { BackendCallError, callBackend, type BackendCallResult } from './backend-call';
import type { FeatureDeclaration } from './feature-registry';
import type { ModelCatalog, ResolvedModel } from './model-catalog';
import { newTraceContext } from './trace-context';

export type Tier = 'primary' | 'fallback_model' | 'ngram' | 'none';

// A model step with less time than this left is skipped: it could not answer in time anyway.
const MIN_MODEL_MS = 15;

export interface GatewayRequest {
  feature: FeatureDeclaration;
  unitId: string;
  /** The rendered prompt sent to the model (and stored, redacted). */
  prompt: string;
  maxTokens: number;
  /** For the n-gram tier: the user's text around the cursor. */
  textBefore: string;
  textAfter: string;
  prediction?: string;
  seed: number;
  /** The experiment arm's model in place of the chain's first model (see resolveArm). */
  primaryOverride?: ResolvedModel | null;
  /** The caller's abort (a newer keystroke, a closed connection). */
  signal?: AbortSignal;
  /** Text as it streams from the model that is answering; `reset` when it gives up mid-way. */
  onDelta?: (text: string) => void;
  onReset?: () => void;
}

export interface GatewayAttempt {
  step: string;
  backend: string | null;
  outcome: 'ok' | 'empty' | 'skipped' | BackendCallError['kind'];
  ms: number;
  error?: string;
}

export interface GatewayResult {
  tier: Tier;
  text: string;
  model: ResolvedModel | null;
  backend: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  ttftMs: number | null;
  latencyMs: number;
  /** The last failure on the way (null when the first step answered or all were skipped). */
  error: string | null;
  aborted: boolean;
  traceId: string;
  attempts: GatewayAttempt[];
}

/** Cuts a completion after its first sentence end; null while the sentence goes on. */
export function sentenceCut(text: string): string | null {
  const m = /[.!?]["'’”)\]]*(?=\s)/.exec(text);
  if (!m) return null;
  return text.slice(0, m.index + m[0].length);
}

export class Gateway {
  constructor(
    private readonly pool: BackendPool,
    private readonly catalog: ModelCatalog,
  ) {}

  async suggest(req: GatewayRequest): Promise<GatewayResult> {
    const started = performance.now();
    const { feature } = req;
    const trace = newTraceContext();
    const attempts: GatewayAttempt[] = [];
    // One signal for the backend call: the caller's abort or the end of the budget. (Hand-rolled
    // rather than AbortSignal.any, which costs more per request on Node 20.)
    const combined = new AbortController();
    const abort = () => combined.abort();
    const timer = setTimeout(abort, feature.latencyBudgetMs);
    req.signal?.addEventListener('abort', abort, { once: true });
    if (req.signal?.aborted) abort();
    const signal = combined.signal;
    const callerAborted = () => req.signal?.aborted === true;
    const elapsed = () => performance.now() - started;
    const result = (
      tier: Tier,
      text: string,
      extra: Partial<GatewayResult> = {},
    ): GatewayResult => ({
      tier,
      text,
      model: null,
      backend: null,
      promptTokens: null,
      completionTokens: null,
      ttftMs: null,
      latencyMs: elapsed(),
      error: [...attempts].reverse().find((a) => a.error)?.error ?? null,
      aborted: callerAborted(),
      traceId: trace.traceId,
      attempts,
      ...extra,
    });

    try {
      let modelSteps = 0;
      let streamed = false;
      for (const step of feature.fallbackChain) {
        if (callerAborted()) return result('none', '');
        if (step === 'none') return result('none', '');
        if (step === 'ngram') {
          const t = performance.now();
          const { text } = suggestNgram(
            {
              textBefore: req.textBefore,
              textAfter: req.textAfter,
              corpus: preparedCorpus(feature.ngramCorpus),
            },
            { maxWords: feature.maxTokens, stopAtSentenceEnd: feature.stopAtSentenceEnd },
          );
          attempts.push({
            step,
            backend: null,
            outcome: text ? 'ok' : 'empty',
            ms: performance.now() - t,
          });
          if (text) return result('ngram', text);
          continue;
        }
        const isPrimary = modelSteps++ === 0;
        const name = step.slice('model:'.length);
        const model =
          isPrimary && req.primaryOverride ? req.primaryOverride : await this.catalog.resolve(name);
        const remaining = feature.latencyBudgetMs - elapsed();
        if (remaining < MIN_MODEL_MS || req.prompt.trim() === '') {
          attempts.push({ step, backend: null, outcome: 'skipped', ms: 0 });
          continue;
        }
        const timeLeft = () => feature.latencyBudgetMs - elapsed();
        const answer = await this.tryModel(
          req,
          model,
          step,
          timeLeft,
          signal,
          callerAborted,
          trace.traceparent,
          attempts,
          () => {
            if (streamed) req.onReset?.();
            streamed = true;
          },
        );
        if (answer) {
          return result(isPrimary ? 'primary' : 'fallback_model', answer.text, {
            model,
            backend: answer.backend,
            promptTokens: answer.promptTokens,
            completionTokens: answer.completionTokens,
            ttftMs: answer.ttftMs,
          });
        }
      }
      return result('none', '');
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', abort);
    }
  }

  /** Tries the model on each routable backend until one answers; null when none did. */
  private async tryModel(
    req: GatewayRequest,
    model: ResolvedModel,
    step: string,
    timeLeft: () => number,
    signal: AbortSignal,
    callerAborted: () => boolean,
    traceparent: string,
    attempts: GatewayAttempt[],
    onFirstDelta: () => void,
  ): Promise<(BackendCallResult & { backend: string }) | null> {
    const { feature } = req;
    const routed = this.pool.route(model.backendModel, req.unitId);
    if (routed.length === 0)
      attempts.push({
        step,
        backend: null,
        outcome: 'skipped',
        ms: 0,
        error: 'no backend available (circuit open)',
      });
    for (const backend of routed) {
      if (signal.aborted) return null;
      // Another request may have taken the half-open probe since routing.
      if (!backend.breaker.tryAcquire()) continue;
      const t = performance.now();
      let first = true;
      try {
        const out = await callBackend(
          backend,
          {
            model: model.backendModel,
            prompt: req.prompt,
            maxTokens: req.maxTokens,
            stop: feature.stop,
            temperature: feature.temperature,
            seed: req.seed,
            prediction: req.prediction,
            traceparent,
            signal,
            timeoutMs: Math.max(1, Math.floor(timeLeft())),
            onDelta: (piece, soFar) => {
              if (first) onFirstDelta();
              first = false;
              if (feature.stopAtSentenceEnd) {
                if (sentenceCut(soFar) !== null) return true;
              }
              req.onDelta?.(piece);
            },
          },
          callerAborted,
        );
        backend.breaker.onSuccess();
        const text = feature.stopAtSentenceEnd ? (sentenceCut(out.text) ?? out.text) : out.text;
        const ms = performance.now() - t;
        if (text.trim() === '') {
          attempts.push({ step, backend: backend.url, outcome: 'empty', ms });
          return null; // the model had nothing to say; a weaker tier may
        }
        attempts.push({ step, backend: backend.url, outcome: 'ok', ms });
        return { ...out, text, backend: backend.url };
      } catch (error) {
        const failure =
          error instanceof BackendCallError ? error : new BackendCallError('error', String(error));
        if (failure.countsAsFailure) backend.breaker.onFailure(failure.message);
        else backend.breaker.onNeutral();
        attempts.push({
          step,
          backend: backend.url,
          outcome: failure.kind,
          ms: performance.now() - t,
          error: failure.message,
        });
        // Out of time or abandoned: no other backend can help with this step.
        if (failure.kind === 'timeout' || failure.kind === 'aborted') return null;
      }
    }
    return null;
  }
}
