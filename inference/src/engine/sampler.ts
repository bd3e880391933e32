/**
 * Sampling in log space. Logits are sanitised first: NaN counts as -Infinity; if any logit is
 * +Infinity the distribution is uniform over those; if none is above -Infinity the row cannot
 * be sampled and a SamplingError is thrown (the engine ends that sequence with an error).
 */
export class SamplingError extends Error {}

export interface SamplingParams {
  /** 0 means greedy (argmax). */
  temperature: number;
  /** Nucleus mass in (0, 1]; 1 disables. */
  topP: number;
  /** Keep the k most likely tokens; 0 disables. */
  topK: number;
}

/** A filtered, normalised distribution: candidate token ids and their log-probabilities. */
export interface Distribution {
  ids: Int32Array;
  logp: Float64Array;
}

export interface TokenLogprob {
  id: number;
  logprob: number;
}

type Logits = ArrayLike<number>;

const clean = (x: number): number => (Number.isNaN(x) ? -Infinity : x);

/** Index of the largest logit (NaN ignored, ties to the lowest index). */
export function argmax(logits: Logits): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = clean(logits[i] as number);
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  if (best < 0) throw new SamplingError('every logit is -Infinity or NaN');
  return best;
}

/** log(sum(exp(x))) of values already shifted so that their max is 0. */
function logSumExp(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i] as number);
  return Math.log(sum);
}

/** Numerically stable log-softmax of a whole row (float64). */
export function logSoftmax(logits: Logits): Float64Array {
  const n = logits.length;
  const out = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, clean(logits[i] as number));
  if (max === -Infinity) throw new SamplingError('every logit is -Infinity or NaN');
  if (max === Infinity) {
    let count = 0;
    for (let i = 0; i < n; i++) if (logits[i] === Infinity) count++;
    for (let i = 0; i < n; i++) out[i] = logits[i] === Infinity ? -Math.log(count) : -Infinity;
    return out;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(clean(logits[i] as number) - max);
  const logSum = Math.log(sum); // shift by max first: max + log(sum) would lose log(sum) at 1e30
  for (let i = 0; i < n; i++) out[i] = clean(logits[i] as number) - max - logSum;
  return out;
}

/** The k most likely tokens with their log-probabilities under the raw logits, best first. */
export function topLogprobs(logits: Logits, k: number): TokenLogprob[] {
  return topOf(logSoftmax(logits), k);
}

function topOf(lp: Float64Array, k: number): TokenLogprob[] {
  const best: TokenLogprob[] = [];
  for (let i = 0; i < lp.length; i++) {
    const v = lp[i] as number;
    if (best.length < k) {
      best.push({ id: i, logprob: v });
      best.sort((a, b) => b.logprob - a.logprob);
    } else if (k > 0 && v > (best[k - 1] as TokenLogprob).logprob) {
      best[k - 1] = { id: i, logprob: v };
      best.sort((a, b) => b.logprob - a.logprob);
    }
  }
  return best;
}

/**
 * One token's log-probability and the k most likely tokens, all under the raw logits
 * (temperature 1, no top-k/top-p: what a scorer wants, whatever the request samples with).
 */
export function scoreToken(
  logits: Logits,
  id: number,
  k: number,
): { logprob: number; top: TokenLogprob[] } {
  const lp = logSoftmax(logits);
  return { logprob: lp[id] ?? -Infinity, top: topOf(lp, k) };
}

/** Log-probability of one token under the raw logits. */
export function tokenLogprob(logits: Logits, id: number): number {
  return logSoftmax(logits)[id] ?? -Infinity;
}

/**
 * Candidates after temperature, top-k and top-p, with normalised log-probabilities, sorted by
 * probability (descending, ties by id). Tokens more than e^-40 below the best are dropped
 * before top-p: their mass is below float precision.
 */
export function distribution(logits: Logits, params: SamplingParams): Distribution {
  const t = params.temperature > 0 ? params.temperature : 1;
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, clean(logits[i] as number) / t);
  if (max === -Infinity) throw new SamplingError('every logit is -Infinity or NaN');
  const ids: number[] = [];
  if (max === Infinity) {
    for (let i = 0; i < logits.length; i++) if (logits[i] === Infinity) ids.push(i);
    const logp = new Float64Array(ids.length).fill(-Math.log(ids.length));
    return { ids: Int32Array.from(ids), logp };
  }
  const floor = max - 40;
  const scaled: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    const v = clean(logits[i] as number) / t;
    if (v >= floor) {
      ids.push(i);
      scaled[i] = v - max; // relative to the best, so 1e30-sized logits keep their differences
    }
  }
  const at = (i: number): number => scaled[i] as number;
  ids.sort((a, b) => at(b) - at(a) || a - b);
  let kept = params.topK > 0 ? ids.slice(0, params.topK) : ids;
  let values = kept.map(at);
  let lse = logSumExp(values);
  if (params.topP > 0 && params.topP < 1) {
    let mass = 0;
    let cut = kept.length;
    for (let j = 0; j < kept.length; j++) {
      mass += Math.exp((values[j] as number) - lse);
      if (mass >= params.topP) {
        cut = j + 1;
        break;
      }
    }
    kept = kept.slice(0, cut);
    values = values.slice(0, cut);
    lse = logSumExp(values);
  }
  return { ids: Int32Array.from(kept), logp: Float64Array.from(values, (v) => v - lse) };
}

/** Inverse-CDF draw with uniform u in [0, 1). */
export function sampleFrom(dist: Distribution, u: number): number {
  let acc = 0;
  for (let j = 0; j < dist.ids.length; j++) {
    acc += Math.exp(dist.logp[j] as number);
    if (u < acc) return dist.ids[j] as number;
  }
  return dist.ids[dist.ids.length - 1] as number;
}

/** Probability of a token under a distribution (0 when it is not a candidate). */
export function probabilityOf(dist: Distribution, id: number): number {
  const j = dist.ids.indexOf(id);
  return j < 0 ? 0 : Math.exp(dist.logp[j] as number);
}

/** Draws from the distribution with one token removed and the rest renormalised. */
export function sampleExcluding(dist: Distribution, excluded: number, u: number): number {
  const rest = 1 - probabilityOf(dist, excluded);
  if (rest <= 0) return excluded;
  let acc = 0;
  let last = excluded;
  for (let j = 0; j < dist.ids.length; j++) {
    const id = dist.ids[j] as number;
    if (id === excluded) continue;
    last = id;
    acc += Math.exp(dist.logp[j] as number) / rest;
    if (u < acc) return id;
  }
  return last;
}
