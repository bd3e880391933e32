/**
 * The gateway: answers one suggestion within the feature's latency budget by walking its fallback
 * chain (model → smaller model → n-gram → nothing) and says which tier answered. It never throws
 * for backend trouble: timeouts, errors, open circuits and overload all mean "next step".
 */
import { preparedCorpus, suggestNgram } from '~/lib/ngram-suggester';
import type { Backend, BackendPool } from './backend-pool';
import {
  BackendCallError,
  callBackend,
  type BackendCallResult,
  type TokenUsage,
} from './backend-call';
import type { FeatureDeclaration } from './feature-registry';
import type { ModelCatalog, ResolvedModel } from './model-catalog';
import { newTraceContext, type TraceContext } from './trace-context';

export type Tier = 'primary' | 'fallback_model' | 'ngram' | 'none';

// A model step with less time than this left is skipped: it could not answer in time anyway.
const MIN_MODEL_MS = 15;
// Sentence ends as stop strings, for backends that keep a matched stop in their text.
const SENTENCE_STOPS = ['. ', '! ', '? '];
// The OpenAI API takes at most four stop strings (and so does the worker).
const MAX_STOPS = 4;

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
  /**
   * The unit's arm's model or the feature's default version, in place of the chain's first model
   * (see resolveServed in arm-resolver.ts).
   */
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
  /**
   * When the answer came before the backend's stream ended (cut at a sentence end): the token
   * counts, which arrive once the rest of the stream is read. Null otherwise.
   */
  laterUsage?: Promise<TokenUsage | null> | null;
  ttftMs: number | null;
  latencyMs: number;
  /** The last failure on the way (null when the first step answered or all were skipped). */
  error: string | null;
  aborted: boolean;
  traceId: string;
  /** The backend call's span id and its parent's, so the outbox's GenAI span joins the trace. */
  spanId: string;
  parentSpanId: string | null;
  attempts: GatewayAttempt[];
}

/** Cuts a completion after its first sentence end; null while the sentence goes on. */
export function sentenceCut(text: string): string | null {
  const m = /[.!?]["'’”)\]]*(?=\s)/.exec(text);
  if (!m) return null;
  return text.slice(0, m.index + m[0].length);
}

/** What one suggest() call carries from tier to tier. */
interface AttemptContext {
  req: GatewayRequest;
  started: number;
  trace: TraceContext;
  attempts: GatewayAttempt[];
  /** The caller's abort or the end of the budget. */
  signal: AbortSignal;
  callerAborted: () => boolean;
  timeLeft: () => number;
  /** Whether a model has streamed text to the caller (the next one that streams resets it). */
  streamed: boolean;
  /** Models already asked (on each of their backends): a later step naming one again is skipped. */
  asked: Set<string>;
  /** Ends the budget timer and lets go of the caller's signal. */
  close: () => void;
}

/** What a tier answers with; the rest of the result comes from the attempt context. */
type TierAnswer = Pick<GatewayResult, 'tier' | 'text'> &
  Partial<
    Pick<
      GatewayResult,
      'model' | 'backend' | 'promptTokens' | 'completionTokens' | 'laterUsage' | 'ttftMs'
    >
  >;

const SILENCE: TierAnswer = { tier: 'none', text: '' };

function openAttempt(req: GatewayRequest): AttemptContext {
  const started = performance.now();
  // One signal for the backend call: the caller's abort or the end of the budget. (Hand-rolled
  // rather than AbortSignal.any, which costs more per request on Node 20.)
  const combined = new AbortController();
  const abort = () => combined.abort();
  const timer = setTimeout(abort, req.feature.latencyBudgetMs);
  req.signal?.addEventListener('abort', abort, { once: true });
  if (req.signal?.aborted) abort();
  return {
    req,
    started,
    trace: newTraceContext(),
    attempts: [],
    signal: combined.signal,
    callerAborted: () => req.signal?.aborted === true,
    timeLeft: () => req.feature.latencyBudgetMs - (performance.now() - started),
    streamed: false,
    asked: new Set(),
    close: () => {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', abort);
    },
  };
}

function resultOf(ctx: AttemptContext, answer: TierAnswer): GatewayResult {
  return {
    model: null,
    backend: null,
    promptTokens: null,
    completionTokens: null,
    laterUsage: null,
    ttftMs: null,
    latencyMs: performance.now() - ctx.started,
    error: [...ctx.attempts].reverse().find((a) => a.error)?.error ?? null,
    aborted: ctx.callerAborted(),
    traceId: ctx.trace.traceId,
    spanId: ctx.trace.spanId,
    parentSpanId: ctx.trace.parentSpanId,
    attempts: ctx.attempts,
    ...answer,
  };
}

/** The stop strings for one call: the feature's, plus sentence ends where they are kept. */
function stopsFor(feature: FeatureDeclaration, keepStops: boolean): string[] {
  if (!keepStops) return feature.stop;
  return [...new Set([...feature.stop, ...SENTENCE_STOPS])].slice(0, MAX_STOPS);
}

/** A kept stop string of the feature's own (a newline) is not part of the suggestion. */
function withoutKeptStop(feature: FeatureDeclaration, text: string): string {
  const stop = feature.stop.find((s) => text.endsWith(s));
  return stop ? text.slice(0, -stop.length) : text;
}

/** The n-gram tier: prompt lookup in the user's text and the feature's corpus. */
function ngramTier(ctx: AttemptContext): TierAnswer | null {
  const { req } = ctx;
  const { feature } = req;
  const t = performance.now();
  const { text } = suggestNgram(
    {
      textBefore: req.textBefore,
      textAfter: req.textAfter,
      corpus: preparedCorpus(feature.ngramCorpus),
    },
    { maxWords: feature.maxTokens, stopAtSentenceEnd: feature.stopAtSentenceEnd },
  );
  ctx.attempts.push({
    step: 'ngram',
    backend: null,
    outcome: text ? 'ok' : 'empty',
    ms: performance.now() - t,
  });
  return text ? { tier: 'ngram', text } : null;
}

export class Gateway {
  constructor(
    private readonly pool: BackendPool,
    private readonly catalog: ModelCatalog,
  ) {}

  async suggest(req: GatewayRequest): Promise<GatewayResult> {
    const ctx = openAttempt(req);
    try {
      let modelSteps = 0;
      for (const step of req.feature.fallbackChain) {
        if (ctx.callerAborted() || step === 'none') break;
        const answer =
          step === 'ngram' ? ngramTier(ctx) : await this.modelTier(ctx, step, modelSteps++ === 0);
        if (answer) return resultOf(ctx, answer);
      }
      return resultOf(ctx, SILENCE);
    } finally {
      ctx.close();
    }
  }

  /** A `model:<name>` step: the model (or the arm's, for the primary) on its backends. */
  private async modelTier(
    ctx: AttemptContext,
    step: `model:${string}`,
    isPrimary: boolean,
  ): Promise<TierAnswer | null> {
    const { req } = ctx;
    const model =
      isPrimary && req.primaryOverride
        ? req.primaryOverride
        : await this.catalog.resolve(step.slice('model:'.length));
    // The arm's version is often the chain's own student too: asking it again would repeat the
    // same request (same prompt and seed) on the same backends and only spend the budget.
    if (
      ctx.timeLeft() < MIN_MODEL_MS ||
      req.prompt.trim() === '' ||
      ctx.asked.has(model.backendModel)
    ) {
      ctx.attempts.push({ step, backend: null, outcome: 'skipped', ms: 0 });
      return null;
    }
    ctx.asked.add(model.backendModel);
    const routed = this.pool.route(model.backendModel, req.unitId);
    if (routed.length === 0)
      ctx.attempts.push({
        step,
        backend: null,
        outcome: 'skipped',
        ms: 0,
        error: 'no backend available (circuit open)',
      });
    for (const backend of routed) {
      if (ctx.signal.aborted) return null;
      // Another request may have taken the half-open probe since routing.
      if (!backend.breaker.tryAcquire()) continue;
      const outcome = await this.callModel(ctx, step, model, backend);
      if (outcome === 'next-tier') return null;
      if (outcome !== 'next-backend')
        return { tier: isPrimary ? 'primary' : 'fallback_model', model, ...outcome };
    }
    return null;
  }

  /** One call of `model` on `backend`, recorded as an attempt. */
  private async callModel(
    ctx: AttemptContext,
    step: string,
    model: ResolvedModel,
    backend: Backend,
  ): Promise<
    (BackendCallResult & { text: string; backend: string }) | 'next-backend' | 'next-tier'
  > {
    const { req } = ctx;
    const { feature } = req;
    // Sentence ends as stops only where the backend is known to keep them (else it would drop
    // the punctuation): elsewhere the stream is cut here and read on for its usage.
    const keepStops = feature.stopAtSentenceEnd && backend.keepsStopStrings === true;
    // A long text before the cursor keeps its most recent tokens instead of failing on every
    // model. Not for a rewrite: a cut selection would be rewritten only in part.
    const truncatePrompt = feature.task === 'completion' && backend.takesPromptTruncation;
    const t = performance.now();
    let first = true;
    try {
      const out = await callBackend(
        backend,
        {
          model: model.backendModel,
          prompt: req.prompt,
          maxTokens: req.maxTokens,
          stop: stopsFor(feature, keepStops),
          keepStops,
          truncatePrompt,
          temperature: feature.temperature,
          seed: req.seed,
          prediction: req.prediction,
          traceparent: ctx.trace.traceparent,
          signal: ctx.signal,
          timeoutMs: Math.max(1, Math.floor(ctx.timeLeft())),
          onDelta: (piece, soFar) => {
            if (first) {
              // A model that streamed and failed: the caller drops its text before this one's.
              if (ctx.streamed) req.onReset?.();
              ctx.streamed = true;
              first = false;
            }
            if (feature.stopAtSentenceEnd && sentenceCut(soFar) !== null) return true;
            // (A kept newline stop ends the stream; it is not part of the text.)
            const fresh = keepStops
              ? withoutKeptStop(feature, soFar).slice(soFar.length - piece.length)
              : piece;
            if (fresh !== '') req.onDelta?.(fresh);
          },
        },
        ctx.callerAborted,
      );
      backend.breaker.onSuccess();
      const kept = keepStops ? withoutKeptStop(feature, out.text) : out.text;
      const text = feature.stopAtSentenceEnd ? (sentenceCut(kept) ?? kept) : kept;
      const ms = performance.now() - t;
      if (text.trim() === '') {
        ctx.attempts.push({ step, backend: backend.url, outcome: 'empty', ms });
        return 'next-tier'; // the model had nothing to say; a weaker tier may
      }
      ctx.attempts.push({ step, backend: backend.url, outcome: 'ok', ms });
      if (feature.stopAtSentenceEnd) this.pool.probeStopStrings(backend, model.backendModel);
      return { ...out, text, backend: backend.url };
    } catch (error) {
      const failure =
        error instanceof BackendCallError ? error : new BackendCallError('error', String(error));
      if (failure.countsAsFailure) backend.breaker.onFailure(failure.message);
      else backend.breaker.onNeutral();
      ctx.attempts.push({
        step,
        backend: backend.url,
        outcome: failure.kind,
        ms: performance.now() - t,
        error: failure.message,
      });
      // Out of time or abandoned: no other backend can help with this step.
      return failure.kind === 'timeout' || failure.kind === 'aborted'
        ? 'next-tier'
        : 'next-backend';
    }
  }
}
