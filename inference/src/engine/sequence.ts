/** One generation in the engine: its tokens, KV position, draft policy and stop rules. */
import type { KvBlock } from './kv-tensors';
import type { EmittedLogprob, FinishReason, GenerationRequest } from './protocol';
import { scoreToken } from './sampler';
import { ngramDraft, predictionDraft, verifyDraft, type NgramOptions } from './speculative';

export type SequenceState = 'waiting' | 'prefilling' | 'decoding' | 'done';

export interface Limits {
  contextLength: number;
  eos: ReadonlySet<number>;
  maxDraft: number;
}

export interface Emission {
  tokens: number[];
  logprobs: EmittedLogprob[] | null;
  drafted: number;
  accepted: number;
}

export class Sequence {
  state: SequenceState = 'waiting';
  /** Prompt then every verified token (the KV holds tokens[0, kvLength)). */
  readonly tokens: number[];
  /** Tokens sent to the client. */
  emitted = 0;
  kvLength = 0;
  /** Own KV while prefilling (batch 1); null once it joins the batch. */
  kv: KvBlock | null = null;
  cancelled = false;
  finish: FinishReason | null = null;
  message: string | undefined;
  cachedTokens = 0;
  /** Scores of prompt tokens 1.. so far (requests with `promptLogprobs`). */
  readonly promptScores: EmittedLogprob[] = [];
  /** Timings and counts for tracing (epoch ms: comparable across threads). */
  admittedAt = 0;
  prefilledAt = 0;
  steps = 0;
  drafted = 0;
  acceptedDraft = 0;
  private draftLimit: number;
  /** A caller's prediction is a better draft than n-gram lookup, so it may run longer. */
  private readonly maxDraft: number;

  constructor(
    readonly request: GenerationRequest,
    private readonly limits: Limits,
  ) {
    this.tokens = [...request.prompt];
    this.maxDraft = request.prediction ? 2 * limits.maxDraft : limits.maxDraft;
    this.draftLimit = request.speculate ? this.maxDraft : 0;
  }

  get id(): string {
    return this.request.id;
  }
  get promptLength(): number {
    return this.request.prompt.length;
  }
  get generated(): number {
    return this.tokens.length - this.promptLength;
  }
  get last(): number {
    return this.tokens[this.tokens.length - 1] as number;
  }

  /** Draft tokens to verify next step (bounded by the context and max_tokens). */
  draft(): number[] {
    const room = Math.min(
      this.limits.contextLength - this.tokens.length,
      this.request.maxTokens - this.generated - 1,
    );
    const k = Math.min(this.draftLimit, room);
    if (k <= 0) return [];
    const opts: NgramOptions = { maxNgram: 4, minNgram: 2, maxDraft: k };
    const output = this.tokens.slice(this.promptLength);
    if (this.request.prediction) {
      const d = predictionDraft(output, this.request.prediction, { ...opts, minNgram: 1 });
      if (d.length > 0) return d;
    }
    return ngramDraft(this.tokens, opts);
  }

  /**
   * Verifies `draft` on logits for positions 0..draft.length (of the tokens fed this step),
   * appends the verified tokens and returns what to send to the client. The caller advances
   * kvLength by what it fed and what was accepted.
   */
  accept(draft: number[], rowLogits: (position: number) => Float32Array): Emission {
    const result = verifyDraft(draft, rowLogits, {
      params: this.request.sampling,
      seed: this.request.seed,
      stream: this.request.stream,
      step: this.generated,
    });
    this.steps++;
    this.drafted += draft.length;
    this.acceptedDraft += result.accepted;
    if (draft.length > 0) {
      // Adaptive draft length: grow on full acceptance, halve on a miss.
      this.draftLimit =
        result.accepted === draft.length
          ? Math.min(this.maxDraft, this.draftLimit + 1)
          : Math.max(1, Math.floor(this.draftLimit / 2));
    }
    const out: number[] = [];
    const logprobs: EmittedLogprob[] | null = this.request.logprobs === null ? null : [];
    for (let j = 0; j < result.tokens.length; j++) {
      const token = result.tokens[j] as number;
      this.tokens.push(token);
      if (!this.request.ignoreEos && this.limits.eos.has(token)) {
        this.finish = 'stop';
        break;
      }
      out.push(token);
      if (logprobs && this.request.logprobs !== null) {
        logprobs.push(scoreToken(rowLogits(j), token, this.request.logprobs));
      }
      if (
        this.generated >= this.request.maxTokens ||
        this.tokens.length >= this.limits.contextLength
      ) {
        this.finish = 'length';
        break;
      }
    }
    this.emitted += out.length;
    return { tokens: out, logprobs, drafted: draft.length, accepted: result.accepted };
  }
}
