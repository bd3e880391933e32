/** Messages between the HTTP thread and a model's engine thread (structured-clone friendly). */
import type { SamplingParams, TokenLogprob } from './sampler';
import type { ExecutionProviderName } from '../env';

export interface GenerationRequest {
  id: string;
  prompt: number[];
  maxTokens: number;
  sampling: SamplingParams;
  seed: number;
  /** Choice index: the RNG stream, so n > 1 choices differ under one seed. */
  stream: number;
  /** Top logprobs wanted per token (0: only the chosen token's), or null for none. */
  logprobs: number | null;
  /** Tokens of a caller-supplied prediction (OpenAI `prediction`), used as the draft. */
  prediction: number[] | null;
  speculate: boolean;
  /** Keep generating past end-of-sequence tokens (vLLM's `ignore_eos`, for benchmarks). */
  ignoreEos: boolean;
  /**
   * Score the prompt: the top logprobs wanted per prompt token (0: only the token's own), or
   * null/absent for none. Prompt tokens 1.. are scored (token 0 has no context); the whole
   * prompt is then prefilled, as the prefix cache keeps KV, not logits.
   */
  promptLogprobs?: number | null;
}

export interface EmittedLogprob {
  logprob: number;
  top: TokenLogprob[];
}

export type FinishReason = 'stop' | 'length' | 'cancelled' | 'error';

/** Where one generation's time went in the engine (epoch ms), for tracing. */
export interface SequenceStats {
  /** Given a batch slot (0: never admitted). */
  admittedAt: number;
  /** Prompt prefilled, before the first token was sampled (0: never got there). */
  prefilledAt: number;
  finishedAt: number;
  /** Decode steps (forward passes that verified or sampled this sequence's tokens). */
  steps: number;
  drafted: number;
  accepted: number;
}

export type ToEngine =
  | { type: 'submit'; request: GenerationRequest }
  | { type: 'cancel'; id: string }
  | { type: 'shutdown' };

export interface StepStats {
  batch: number;
  /** Tokens emitted this step across the batch. */
  tokens: number;
  drafted: number;
  accepted: number;
  prefillTokens: number;
  ms: number;
}

export type FromEngine =
  | {
      type: 'ready';
      provider: ExecutionProviderName;
      failures: { provider: string; error: string }[];
      /** The KV layout in use ('grouped' for exports without position_ids under 'auto'). */
      layout: 'padded' | 'grouped';
    }
  | { type: 'fatal'; message: string }
  | { type: 'admitted'; id: string; cachedTokens: number }
  | { type: 'tokens'; id: string; tokens: number[]; logprobs: EmittedLogprob[] | null }
  /** Scores of the next prompt tokens, in order (prompt token 1 first), sent per prefill chunk. */
  | { type: 'prompt_logprobs'; id: string; logprobs: EmittedLogprob[] }
  | { type: 'done'; id: string; reason: FinishReason; message?: string; stats?: SequenceStats }
  | { type: 'step'; stats: StepStats }
  | { type: 'closed' }
  /** Everything emitted in one synchronous stretch of the loop, posted as one message. */
  | { type: 'events'; events: FromEngine[] };
