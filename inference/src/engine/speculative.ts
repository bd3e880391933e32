import { Draw, uniform } from './rng';
import {
  argmax,
  distribution,
  probabilityOf,
  sampleExcluding,
  sampleFrom,
  type SamplingParams,
} from './sampler';

export interface NgramOptions {
  /** Longest suffix n-gram tried first. */
  maxNgram: number;
  /** Shortest suffix n-gram accepted. */
  minNgram: number;
  /** Most tokens proposed. */
  maxDraft: number;
}

export const DEFAULT_NGRAM: NgramOptions = { maxNgram: 4, minNgram: 2, maxDraft: 6 };

function matchesAt(
  corpus: ArrayLike<number>,
  at: number,
  seq: ArrayLike<number>,
  from: number,
  n: number,
): boolean {
  for (let j = 0; j < n; j++) if (corpus[at + j] !== seq[from + j]) return false;
  return true;
}

/**
 * Prompt-lookup draft: the tokens that followed the most recent earlier occurrence of the
 * longest suffix n-gram of `history` (n from maxNgram down to minNgram).
 */
export function ngramDraft(history: ArrayLike<number>, opts: NgramOptions): number[] {
  const len = history.length;
  if (opts.maxDraft <= 0) return [];
  for (let n = Math.min(opts.maxNgram, len - 1); n >= Math.max(1, opts.minNgram); n--) {
    const from = len - n;
    for (let at = len - n - 1; at >= 0; at--) {
      if (!matchesAt(history, at, history, from, n)) continue;
      // Copy what followed; past the end of history keep copying from the draft itself
      // (LZ77-style overlap), so a periodic tail gives a full-length draft.
      const out: number[] = [];
      for (let j = at + n; out.length < opts.maxDraft; j++) {
        out.push(j < len ? (history[j] as number) : (out[j - len] as number));
      }
      return out;
    }
  }
  return [];
}

/**
 * Draft from a caller-supplied prediction (the text being rewritten): continue the prediction
 * after the longest suffix of `output` found in it, preferring the occurrence nearest to where
 * the output is expected to be (its length). With no output yet, the prediction's start.
 */
export function predictionDraft(
  output: ArrayLike<number>,
  prediction: ArrayLike<number>,
  opts: NgramOptions,
): number[] {
  if (opts.maxDraft <= 0 || prediction.length === 0) return [];
  const take = (start: number): number[] =>
    Array.from(
      { length: Math.max(0, Math.min(opts.maxDraft, prediction.length - start)) },
      (_, j) => Number(prediction[start + j]),
    );
  if (output.length === 0) return take(0);
  for (let n = Math.min(opts.maxNgram, output.length); n >= 1; n--) {
    const from = output.length - n;
    let best = -1;
    for (let at = 0; at + n <= prediction.length; at++) {
      if (!matchesAt(prediction, at, output, from, n)) continue;
      const end = at + n;
      if (best < 0 || Math.abs(end - output.length) < Math.abs(best - output.length)) best = end;
    }
    if (best >= 0 && best < prediction.length) return take(best);
  }
  return [];
}

export interface VerifyResult {
  /** Draft tokens accepted (a prefix of the draft). */
  accepted: number;
  /** Tokens to emit: the accepted draft, then one token from the target (correction or bonus). */
  tokens: number[];
}

export interface VerifyContext {
  params: SamplingParams;
  seed: number;
  stream: number;
  /** Output position of the first token this verification may emit (the RNG step). */
  step: number;
}

/**
 * Verifies a draft against target logits for draft.length + 1 positions (rows of `rowLogits`).
 * Greedy: accept while the draft equals the argmax, then emit the argmax, so the output is
 * token-identical to plain greedy decoding. Sampling: the draft is a point mass, so accept
 * token x with probability p(x); on rejection draw from p with x removed and renormalised;
 * if all are accepted draw a bonus token from the last row.
 */
export function verifyDraft(
  draft: readonly number[],
  rowLogits: (position: number) => ArrayLike<number>,
  ctx: VerifyContext,
): VerifyResult {
  const tokens: number[] = [];
  const greedy = ctx.params.temperature <= 0;
  for (let i = 0; i <= draft.length; i++) {
    const logits = rowLogits(i);
    const step = ctx.step + i;
    const x = draft[i];
    if (greedy) {
      const best = argmax(logits);
      tokens.push(best);
      if (x === undefined || best !== x) return { accepted: i, tokens };
      continue;
    }
    const dist = distribution(logits, ctx.params);
    if (x === undefined) {
      tokens.push(sampleFrom(dist, uniform(ctx.seed, ctx.stream, step, Draw.sample)));
      return { accepted: i, tokens };
    }
    const u = uniform(ctx.seed, ctx.stream, step, Draw.accept);
    if (u < probabilityOf(dist, x)) {
      tokens.push(x);
      continue;
    }
    tokens.push(sampleExcluding(dist, x, uniform(ctx.seed, ctx.stream, step, Draw.resample)));
    return { accepted: i, tokens };
  }
  return { accepted: draft.length, tokens };
}
