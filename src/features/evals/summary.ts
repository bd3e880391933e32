/**
 * From per-example scores to a run's metrics: rates with Wilson intervals, means with seeded
 * percentile-bootstrap intervals, latency percentiles. Pure: the same examples and seed give the
 * same numbers (DESIGN.md principle 3).
 */
import mt19937 from '@stdlib/random-base-mt19937';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

export const CONFIDENCE = 0.95;
export const BOOTSTRAP_RESAMPLES = 1000;

export type Interval = [number, number];

export interface RateSummary {
  rate: number | null;
  hits: number;
  n: number;
  ci95: Interval | null;
}

export interface MeanSummary {
  mean: number | null;
  n: number;
  ci95: Interval | null;
}

/** Wilson score interval for a binomial proportion (sound at 0, 1 and small n, unlike Wald). */
export function wilsonInterval(hits: number, n: number, confidence = CONFIDENCE): Interval | null {
  if (n <= 0) return null;
  const z = normalQuantile(1 - (1 - confidence) / 2, 0, 1);
  const p = hits / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At 0 or n hits the bound is exactly 0 or 1 (rounding would leave 1e-17).
  return [hits === 0 ? 0 : Math.max(0, centre - half), hits === n ? 1 : Math.min(1, centre + half)];
}

export function rateSummary(flags: readonly boolean[]): RateSummary {
  const hits = flags.filter(Boolean).length;
  const n = flags.length;
  return { rate: n ? hits / n : null, hits, n, ci95: wilsonInterval(hits, n) };
}

/** A 32-bit seed from a string seed and a purpose (FNV-1a), so each metric draws its own stream. */
export function seedOf(seed: string, purpose: string): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}\u0000${purpose}`) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h === 0 ? 1 : h; // mt19937 wants a positive seed
}

const sortedCopy = (values: readonly number[]) => Float64Array.from(values).sort();

/** Linear-interpolation quantile (NumPy's default) of sorted values. */
function quantileSorted(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export function quantile(values: readonly number[], q: number): number | null {
  return quantileSorted(sortedCopy(values), q);
}

/**
 * Ratio Σnum/Σden over examples with a percentile-bootstrap interval (examples resampled with
 * replacement, `BOOTSTRAP_RESAMPLES` times, from a Mersenne Twister seeded by `seed`). With
 * den = 1 everywhere this is the plain mean.
 */
export function bootstrapRatio(
  num: readonly number[],
  den: readonly number[] | null,
  seed: number,
  resamples = BOOTSTRAP_RESAMPLES,
): MeanSummary {
  const n = num.length;
  if (n === 0) return { mean: null, n: 0, ci95: null };
  const d = (i: number) => (den ? den[i]! : 1);
  let sumNum = 0;
  let sumDen = 0;
  for (let i = 0; i < n; i++) {
    sumNum += num[i]!;
    sumDen += d(i);
  }
  const mean = sumDen > 0 ? sumNum / sumDen : null;
  if (n < 2 || mean === null) return { mean, n, ci95: null };
  const rng = mt19937.factory({ seed });
  const stats = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let a = 0;
    let c = 0;
    for (let k = 0; k < n; k++) {
      const i = Math.floor((rng() / 4294967296) * n); // rng(): an integer in [0, 2³²)
      a += num[i]!;
      c += d(i);
    }
    stats[b] = c > 0 ? a / c : mean;
  }
  stats.sort();
  const tail = (1 - CONFIDENCE) / 2;
  return { mean, n, ci95: [quantileSorted(stats, tail)!, quantileSorted(stats, 1 - tail)!] };
}

export const bootstrapMean = (values: readonly number[], seed: number) =>
  bootstrapRatio(values, null, seed);

export interface LatencySummary {
  p50: number | null;
  p95: number | null;
  n: number;
}

export function latencySummary(values: readonly number[]): LatencySummary {
  const sorted = sortedCopy(values);
  return { p50: quantileSorted(sorted, 0.5), p95: quantileSorted(sorted, 0.95), n: values.length };
}
