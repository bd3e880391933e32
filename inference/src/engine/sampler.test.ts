import { describe, expect, it } from 'vitest';
import { uniform } from './rng';
import {
  argmax,
  distribution,
  logSoftmax,
  probabilityOf,
  sampleExcluding,
  sampleFrom,
  SamplingError,
  tokenLogprob,
  topLogprobs,
} from './sampler';

const sumExp = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, x) => s + Math.exp(x), 0);

describe('rng', () => {
  it('is a pure function of its coordinates', () => {
    expect(uniform(42, 0, 7, 0)).toBe(uniform(42, 0, 7, 0));
    expect(uniform(42, 0, 7, 0)).not.toBe(uniform(42, 1, 7, 0));
    expect(uniform(42, 0, 7, 0)).not.toBe(uniform(43, 0, 7, 0));
    expect(uniform(2 ** 40 + 5, 0, 0, 0)).not.toBe(uniform(5, 0, 0, 0));
  });
  it('is roughly uniform on [0, 1)', () => {
    const n = 20000;
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) {
      const u = uniform(1, 0, i, 0);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      buckets[Math.floor(u * 10)]!++;
    }
    for (const b of buckets) expect(Math.abs(b - n / 10)).toBeLessThan(n / 10 / 8);
  });
});

describe('log-softmax', () => {
  it('normalises and is stable on extreme logits', () => {
    const lp = logSoftmax([1e30, -1e30, 0, 1e30]);
    expect(lp[0]).toBeCloseTo(Math.log(0.5));
    expect(lp[3]).toBeCloseTo(Math.log(0.5));
    expect(lp[1]).toBeLessThan(-1e30);
    expect(lp[2]).toBeCloseTo(-1e30, -25);
    expect(sumExp(lp)).toBeCloseTo(1, 12);
    const big = logSoftmax([1000, 1001, 1002]);
    expect(sumExp(big)).toBeCloseTo(1, 12);
  });
  it('treats NaN as -Infinity and +Infinity as a uniform winner', () => {
    const lp = logSoftmax([NaN, 0, 1]);
    expect(lp[0]).toBe(-Infinity);
    expect(sumExp(lp)).toBeCloseTo(1, 12);
    const inf = logSoftmax([Infinity, 3, Infinity]);
    expect(inf[0]).toBeCloseTo(Math.log(0.5));
    expect(inf[1]).toBe(-Infinity);
  });
  it('refuses a row with nothing to sample', () => {
    expect(() => logSoftmax([-Infinity, NaN])).toThrow(SamplingError);
    expect(() => argmax([NaN, -Infinity])).toThrow(SamplingError);
    expect(() => distribution([-Infinity], { temperature: 1, topP: 1, topK: 0 })).toThrow(
      SamplingError,
    );
  });
});

describe('argmax and logprobs', () => {
  it('ignores NaN and breaks ties to the lowest id', () => {
    expect(argmax([NaN, 2, 5, 5, -Infinity])).toBe(2);
    expect(argmax([-1e30, -1e29])).toBe(1);
  });
  it('returns top logprobs best first', () => {
    const top = topLogprobs([0, 3, 1, 2], 2);
    expect(top.map((t) => t.id)).toEqual([1, 3]);
    expect(top[0]!.logprob).toBeCloseTo(tokenLogprob([0, 3, 1, 2], 1));
  });
});

describe('distribution', () => {
  const logits = [2, 1, 0, -1, NaN];
  it('applies top-k', () => {
    const d = distribution(logits, { temperature: 1, topP: 1, topK: 2 });
    expect(Array.from(d.ids)).toEqual([0, 1]);
    expect(sumExp(d.logp)).toBeCloseTo(1, 12);
  });
  it('applies top-p as the smallest set reaching the mass', () => {
    const d = distribution(logits, { temperature: 1, topP: 0.7, topK: 0 });
    expect(Array.from(d.ids)).toEqual([0, 1]);
    const all = distribution(logits, { temperature: 1, topP: 1, topK: 0 });
    expect(Array.from(all.ids)).toEqual([0, 1, 2, 3]);
  });
  it('sharpens with low temperature and survives huge logits', () => {
    const d = distribution([1e30, 1e30 - 1e25, -1e30], { temperature: 0.01, topP: 1, topK: 0 });
    expect(Array.from(d.ids)).toEqual([0]);
    expect(sampleFrom(d, 0.999)).toBe(0);
  });
  it('samples by inverse CDF and excludes a rejected token', () => {
    const d = distribution([0, 0], { temperature: 1, topP: 1, topK: 0 });
    expect(sampleFrom(d, 0.25)).toBe(0);
    expect(sampleFrom(d, 0.75)).toBe(1);
    expect(probabilityOf(d, 1)).toBeCloseTo(0.5);
    expect(sampleExcluding(d, 0, 0.1)).toBe(1);
    expect(sampleExcluding(d, 1, 0.9)).toBe(0);
  });
});
