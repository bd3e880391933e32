import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  mergeAll,
  quantile,
  RELATIVE_ACCURACY,
  toSparse,
  addInto,
} from './latency-sketch';

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Nearest rank, as percentile_disc. */
function exact(sorted: number[], q: number) {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

function sketchOf(values: number[]) {
  const counts = new Map<number, number>();
  for (const v of values) addInto(counts, { idx: [bucketOf(v)], cnt: [1] });
  return toSparse(counts);
}

describe('latency sketch', () => {
  it('reads every percentile within 1% of the exact value, merged from parts', () => {
    const random = lcg(7);
    // Log-normal around 120 ms with a heavy tail, plus a few very fast and very slow answers.
    const values = Array.from({ length: 50_000 }, () => {
      const z = Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
      return Math.exp(Math.log(120) + 0.9 * z);
    }).concat([0.5, 3, 90_000, 3_600_000]);
    const parts = [values.slice(0, 10_000), values.slice(10_000, 30_000), values.slice(30_000)];
    const merged = mergeAll(parts.map(sketchOf));
    const sorted = [...values].sort((a, b) => a - b);
    let worst = 0;
    for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1]) {
      const truth = exact(sorted, q);
      const error = Math.abs(quantile(merged, q)! - truth) / truth;
      worst = Math.max(worst, error);
    }
    console.log(`sketch: worst relative error ${(worst * 100).toFixed(3)}% over 10 quantiles`);
    expect(worst).toBeLessThanOrEqual(RELATIVE_ACCURACY * 1.0001);
  });

  it('subtracting a part undoes adding it; zero and empty are handled', () => {
    const a = sketchOf([10, 20, 30]);
    const b = sketchOf([20, 5000]);
    const both = addInto(addInto(new Map(), a), b);
    expect(toSparse(addInto(both, b, -1))).toEqual(a);
    expect(quantile({ idx: [], cnt: [] }, 0.5)).toBeNull();
    expect(quantile(sketchOf([0, 0, 0]), 0.5)).toBe(0);
  });
});
