/**
 * Mergeable latency histograms with log-spaced buckets (the DDSketch mapping): bucket i holds
 * values in (γ^(i-1), γ^i] and reports 2γ^i/(γ+1), so every quantile read from a histogram is
 * within RELATIVE_ACCURACY of the exact value at that rank, however many histograms were merged.
 * Merging is adding counts, and so is un-merging (the rollup job subtracts a generation's old
 * contribution when late feedback changes it), which a t-digest cannot do.
 *
 * Stored sparse, as parallel sorted arrays of bucket indexes and counts (int[] columns).
 */

export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LN_GAMMA = Math.log(GAMMA);
/** Values at or below this (ms) share one bucket that reads as 0: no latency is that short. */
export const MIN_TRACKED_MS = 0.01;
/** Bucket of values ≤ MIN_TRACKED_MS. */
export const ZERO_INDEX = Math.ceil(Math.log(MIN_TRACKED_MS) / LN_GAMMA) - 1;
/** Durations are capped at 24 h at ingest (events.ts), so indexes stay below this. */
const MAX_INDEX = Math.ceil(Math.log(24 * 3_600_000) / LN_GAMMA);

export interface SparseHistogram {
  /** Bucket indexes, ascending. */
  idx: number[];
  /** Count per index (non-zero). */
  cnt: number[];
}

export function bucketOf(valueMs: number): number {
  if (!(valueMs > MIN_TRACKED_MS)) return ZERO_INDEX;
  return Math.min(MAX_INDEX, Math.ceil(Math.log(valueMs) / LN_GAMMA));
}

export function valueOf(index: number): number {
  if (index <= ZERO_INDEX) return 0;
  return (2 * Math.pow(GAMMA, index)) / (GAMMA + 1);
}

/** Adds `sign` × each histogram into `into` (bucket → count). */
export function addInto(
  into: Map<number, number>,
  histogram: SparseHistogram | null | undefined,
  sign = 1,
): Map<number, number> {
  if (!histogram) return into;
  histogram.idx.forEach((index, k) => {
    into.set(index, (into.get(index) ?? 0) + sign * (histogram.cnt[k] ?? 0));
  });
  return into;
}

export function toSparse(counts: Map<number, number>): SparseHistogram {
  const idx = [...counts.keys()].filter((i) => counts.get(i) !== 0).sort((a, b) => a - b);
  return { idx, cnt: idx.map((i) => counts.get(i) ?? 0) };
}

export function mergeAll(
  histograms: Iterable<SparseHistogram | null | undefined>,
): SparseHistogram {
  const counts = new Map<number, number>();
  for (const h of histograms) addInto(counts, h);
  return toSparse(counts);
}

export function totalOf(histogram: SparseHistogram): number {
  return histogram.cnt.reduce((a, b) => a + b, 0);
}

/**
 * The q-quantile (0 < q ≤ 1) as the value of rank ceil(q·n) in ascending order, the definition
 * of PostgreSQL's percentile_disc; null for an empty histogram.
 */
export function quantile(histogram: SparseHistogram, q: number): number | null {
  const total = totalOf(histogram);
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let k = 0; k < histogram.idx.length; k++) {
    seen += histogram.cnt[k] ?? 0;
    if (seen >= rank) return valueOf(histogram.idx[k] ?? ZERO_INDEX);
  }
  return valueOf(histogram.idx[histogram.idx.length - 1] ?? ZERO_INDEX);
}
