/**
 * One model's engine loop (runs inside that model's worker thread). Each step: retire
 * finished rows into the prefix cache, let the scheduler admit and chunk prefills, prefill
 * (reusing the longest cached prefix), add finished prefills to the batch, decode one step.
 * Between steps it yields to the event loop, so cancellations land within one step.
 */
import { Batch, type DecodeBatch, type Runner } from './batch';
import { GroupedBatch } from './grouped-batch';
import { KvCacheManager } from './kv-cache';
import { PromptScoreCache } from './prompt-scores';
import { bytesPerToken, emptyKv, gatherKv, range, type KvBlock } from './kv-tensors';
import type { EmittedLogprob, FromEngine, GenerationRequest } from './protocol';
import { RequestQueue } from './request-queue';
import { SamplingError, scoreToken } from './sampler';
import { schedule } from './scheduler';
import { Sequence, type Limits } from './sequence';

export interface EngineOptions {
  contextLength: number;
  eos: readonly number[];
  maxBatch: number;
  maxQueue: number;
  kvCacheBytes: number;
  maxDraft: number;
  prefillChunk: number;
  /**
   * 'padded': one left-padded KV block with masked holes (one forward pass per step; needs a
   * `position_ids` input to stay exact). 'grouped': gap-free blocks of equal-length rows
   * (exact for any export). 'auto' (default): grouped exactly when the export has no
   * `position_ids` input.
   */
  kvLayout?: KvLayout;
}

export type KvLayout = 'auto' | 'padded' | 'grouped';

const yieldToEvents = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** Wall-clock ms with sub-ms precision, comparable with the HTTP thread's. */
const epochMs = (): number => performance.timeOrigin + performance.now();

export class Engine {
  private readonly queue: RequestQueue<Sequence>;
  private readonly prefilling: Sequence[] = [];
  private readonly batch: DecodeBatch;
  readonly cache: KvCacheManager<KvBlock>;
  /** Scores of scored prompts (a small budget beside the KV cache's). */
  private readonly scores: PromptScoreCache;
  private readonly limits: Limits;
  private readonly tokenBytes: number;
  private wake: (() => void) | null = null;
  private stopped = false;
  readonly layout: 'padded' | 'grouped';

  constructor(
    private readonly runner: Runner,
    private readonly opts: EngineOptions,
    private readonly emit: (msg: FromEngine) => void,
  ) {
    this.queue = new RequestQueue(Math.max(1, opts.maxQueue + opts.maxBatch));
    const layout = opts.kvLayout ?? 'auto';
    const grouped =
      layout === 'grouped' || (layout === 'auto' && runner.takesPositionIds === false);
    this.layout = grouped ? 'grouped' : 'padded';
    this.batch = grouped
      ? new GroupedBatch(runner, opts.contextLength)
      : new Batch(runner, opts.contextLength);
    this.cache = new KvCacheManager(opts.kvCacheBytes);
    this.scores = new PromptScoreCache(Math.min(32 << 20, Math.floor(opts.kvCacheBytes / 8)));
    this.limits = {
      contextLength: opts.contextLength,
      eos: new Set(opts.eos),
      maxDraft: opts.maxDraft,
    };
    this.tokenBytes = bytesPerToken(runner.shape);
  }

  submit(request: GenerationRequest): void {
    const seq = new Sequence(request, this.limits);
    // A prompt only scored (maxTokens 0) may fill the context; others need room for a token.
    const room = request.maxTokens === 0 ? 0 : 1;
    if (request.prompt.length === 0 || request.prompt.length + room > this.opts.contextLength) {
      this.emit({
        type: 'done',
        id: request.id,
        reason: 'error',
        message: 'prompt does not fit the context',
      });
      return;
    }
    if (!this.queue.push(seq)) {
      this.emit({ type: 'done', id: request.id, reason: 'error', message: 'engine queue is full' });
      return;
    }
    this.wake?.();
  }

  cancel(id: string): void {
    const waiting = this.queue.remove(id);
    if (waiting) {
      this.emit({ type: 'done', id, reason: 'cancelled' });
      return;
    }
    for (const seq of [...this.prefilling, ...this.batch.rows])
      if (seq.id === id) seq.cancelled = true;
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  get idle(): boolean {
    return this.queue.length === 0 && this.prefilling.length === 0 && this.batch.size === 0;
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      if (this.idle) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      await this.step();
      await yieldToEvents();
    }
    for (const seq of [...this.queue.peekAll(), ...this.prefilling, ...this.batch.rows]) {
      this.emit({ type: 'done', id: seq.id, reason: 'cancelled' });
    }
  }

  private reserveBytes(seq: Sequence): number {
    const tokens = Math.min(this.opts.contextLength, seq.promptLength + seq.request.maxTokens) + 64;
    return tokens * this.tokenBytes;
  }

  private finish(seq: Sequence): void {
    if (seq.state === 'done') return;
    seq.state = 'done';
    this.cache.release(seq.id);
    const reason = seq.cancelled ? 'cancelled' : (seq.finish ?? 'stop');
    this.emit({
      type: 'done',
      id: seq.id,
      reason,
      ...(seq.message ? { message: seq.message } : {}),
      stats: {
        admittedAt: seq.admittedAt,
        prefilledAt: seq.prefilledAt,
        finishedAt: epochMs(),
        steps: seq.steps,
        drafted: seq.drafted,
        accepted: seq.acceptedDraft,
      },
    });
  }

  private retire = (seq: Sequence, kv: KvBlock, tokens: number): void => {
    this.cache.insert(Int32Array.from(seq.tokens.slice(0, tokens)), kv, tokens * this.tokenBytes);
  };

  /** One engine iteration. Public for tests, which drive the engine without the loop. */
  async step(): Promise<void> {
    const started = performance.now();
    for (const seq of this.batch.rows) if (seq.cancelled || seq.finish) this.finish(seq);
    for (const seq of this.prefilling.filter((s) => s.cancelled)) {
      this.prefilling.splice(this.prefilling.indexOf(seq), 1);
      this.finish(seq);
    }
    this.batch.reconcile([], this.retire);

    const decision = schedule({
      decoding: this.batch.size,
      prefilling: this.prefilling.map((s) => ({
        id: s.id,
        remaining: s.promptLength - s.kvLength,
      })),
      waiting: this.queue.peekAll().map((s) => ({
        id: s.id,
        newTokens: s.promptLength,
        bytes: this.reserveBytes(s),
      })),
      maxBatch: this.opts.maxBatch,
      prefillBudget: this.opts.prefillChunk,
      freeBytes: this.cache.freeBytes,
      capacityBytes: this.cache.capacityBytes,
    });
    for (const seq of this.queue.take(decision.reject)) {
      seq.finish = 'error';
      seq.message = 'request needs more KV memory than the worker has';
      this.finish(seq);
    }
    for (const seq of this.queue.take(decision.admit)) this.admit(seq);

    let prefillTokens = 0;
    const joining: Sequence[] = [];
    for (const { id, tokens } of decision.prefill) {
      const seq = this.prefilling.find((s) => s.id === id);
      if (!seq) continue;
      prefillTokens += await this.prefill(seq, tokens);
      if (seq.state === 'decoding' || seq.state === 'done') {
        this.prefilling.splice(this.prefilling.indexOf(seq), 1);
        if (seq.state === 'decoding') joining.push(seq);
      }
    }
    this.batch.reconcile(joining, this.retire);

    let stats = { tokens: joining.length, drafted: 0, accepted: 0 };
    if (this.batch.size > 0) {
      const result = await this.batch.step();
      stats = { tokens: stats.tokens, drafted: result.drafted, accepted: result.accepted };
      for (const r of result.rows) {
        stats.tokens += r.tokens.length;
        if (r.tokens.length > 0) {
          this.emit({ type: 'tokens', id: r.seq.id, tokens: r.tokens, logprobs: r.logprobs });
        }
        if (r.seq.finish) this.finish(r.seq);
      }
    }
    this.emit({
      type: 'step',
      stats: { batch: this.batch.size, prefillTokens, ...stats, ms: performance.now() - started },
    });
    if (this.idle || this.batch.rows.every((s) => s.state === 'done')) {
      this.batch.reconcile([], this.retire);
    }
  }

  private admit(seq: Sequence): void {
    seq.admittedAt = epochMs();
    if (!this.cache.reserve(seq.id, this.reserveBytes(seq))) {
      seq.finish = 'error';
      seq.message = 'no KV memory available';
      this.finish(seq);
      return;
    }
    const hit = this.cache.lookup(seq.request.prompt);
    let reuse = Math.min(hit?.length ?? 0, seq.promptLength - 1);
    const k = seq.request.promptLogprobs ?? null;
    if (k !== null) {
      // Scoring needs every prompt position's logits: reuse KV only as far as stored scores go.
      const stored = this.scores.lookup(seq.request.prompt, k, reuse);
      reuse = stored.length;
      seq.promptScores.push(...stored);
    }
    this.emit({ type: 'admitted', id: seq.id, cachedTokens: reuse });
    if (seq.promptScores.length > 0) {
      this.emit({ type: 'prompt_logprobs', id: seq.id, logprobs: [...seq.promptScores] });
    }
    if (hit && reuse > 0) {
      seq.kv = gatherKv(
        this.runner.shape,
        [{ src: hit.entry.payload, row: 0, cols: range(0, reuse) }],
        reuse,
      );
      seq.kvLength = reuse;
    }
    seq.cachedTokens = reuse;
    seq.state = 'prefilling';
    this.prefilling.push(seq);
  }

  /** Prefills up to `budget` prompt tokens; samples the first token when the prompt is done. */
  private async prefill(seq: Sequence, budget: number): Promise<number> {
    const start = seq.kvLength;
    const n = Math.min(budget, seq.promptLength - start);
    const inputIds = BigInt64Array.from(seq.tokens.slice(start, start + n), (t) => BigInt(t));
    const positionIds = BigInt64Array.from({ length: n }, (_, j) => BigInt(start + j));
    const attentionMask = new BigInt64Array(start + n).fill(1n);
    const past = seq.kv ?? emptyKv(this.runner.shape, 1);
    const topK = seq.request.promptLogprobs ?? null;
    const out = await this.runner.forward({
      batch: 1,
      seqLen: n,
      inputIds,
      attentionMask,
      positionIds,
      past,
      logitsToKeep: topK === null ? 1 : n,
    });
    seq.kv = out.present;
    seq.kvLength = start + n;
    const position = (j: number) =>
      out.logits.subarray(
        (out.keptPositions - n + j) * out.vocab,
        (out.keptPositions - n + j + 1) * out.vocab,
      );
    if (topK !== null && out.keptPositions < n) {
      seq.finish = 'error';
      seq.message = "this model export returns only the last position's logits: no prompt logprobs";
      this.finish(seq);
      return n;
    }
    if (topK !== null) {
      // Position start+j predicts prompt token start+j+1 (the last one predicts the output).
      const scores: EmittedLogprob[] = [];
      for (let j = 0; j < n && start + j + 1 < seq.promptLength; j++) {
        scores.push(scoreToken(position(j), seq.tokens[start + j + 1] as number, topK));
      }
      if (scores.length > 0) this.emit({ type: 'prompt_logprobs', id: seq.id, logprobs: scores });
      seq.promptScores.push(...scores);
      if (start + n === seq.promptLength) {
        this.scores.insert(seq.request.prompt, topK, seq.promptScores);
      }
    }
    if (seq.kvLength < seq.promptLength) return n;
    seq.prefilledAt = epochMs();
    if (seq.request.maxTokens === 0) {
      // Scoring only: nothing to sample; the prompt's KV still serves later requests.
      seq.finish = 'length';
      this.retire(seq, out.present, seq.kvLength);
      this.finish(seq);
      return n;
    }
    const last = position(n - 1);
    try {
      const emission = seq.accept([], () => last);
      if (emission.tokens.length > 0) {
        this.emit({
          type: 'tokens',
          id: seq.id,
          tokens: emission.tokens,
          logprobs: emission.logprobs,
        });
      }
    } catch (err) {
      if (!(err instanceof SamplingError)) throw err;
      seq.finish = 'error';
      seq.message = err.message;
    }
    if (seq.finish || seq.cancelled) {
      this.retire(seq, out.present, seq.kvLength);
      this.finish(seq);
    } else {
      seq.state = 'decoding';
    }
    return n;
  }
}
