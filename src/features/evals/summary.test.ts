import { describe, expect, it } from 'vitest';
import { computeMetrics, type ExampleResult } from './run-metrics';
import { bootstrapMean, bootstrapRatio, quantile, seedOf, wilsonInterval } from './summary';

describe('intervals', () => {
  it('Wilson interval matches the textbook values', () => {
    // 8 of 10 at 95 %: [0.4902, 0.9433] (Wilson 1927; e.g. Newcombe 1998, table I).
    const [lo, hi] = wilsonInterval(8, 10)!;
    expect(lo).toBeCloseTo(0.4902, 4);
    expect(hi).toBeCloseTo(0.9433, 4);
    expect(wilsonInterval(0, 10)![0]).toBe(0);
    expect(wilsonInterval(0, 0)).toBeNull();
  });

  it('bootstrap is a pure function of the values and the seed', () => {
    const values = Array.from({ length: 200 }, (_, i) => (i * 37) % 101);
    const a = bootstrapMean(values, seedOf('7', 'chrf'));
    const b = bootstrapMean(values, seedOf('7', 'chrf'));
    const c = bootstrapMean(values, seedOf('8', 'chrf'));
    expect(a).toEqual(b);
    expect(c.ci95).not.toEqual(a.ci95);
    const mean = values.reduce((x, y) => x + y, 0) / values.length;
    expect(a.mean).toBeCloseTo(mean, 12);
    // The 95 % interval of a mean of 200 values spread over 0–100 is about ±4.
    expect(a.ci95![0]).toBeLessThan(mean);
    expect(a.ci95![1]).toBeGreaterThan(mean);
    expect(a.ci95![1] - a.ci95![0]).toBeGreaterThan(4);
    expect(a.ci95![1] - a.ci95![0]).toBeLessThan(12);
  });

  it('ratio of sums weighs examples by their denominators', () => {
    expect(bootstrapRatio([-2, -6], [1, 3], 1).mean).toBe(-2);
    expect(bootstrapRatio([], [], 1)).toEqual({ mean: null, n: 0, ci95: null });
  });

  it('quantiles interpolate linearly', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20, 30, 40, 50], 0.95)).toBeCloseTo(48, 12);
    expect(quantile([], 0.5)).toBeNull();
  });
});

describe('run metrics', () => {
  const result = (over: Partial<ExampleResult>): ExampleResult => ({
    key: 'k',
    prompt: 'Thank you for',
    kept: ' your help.',
    candidate: ' the help.',
    firstWordMatch: true,
    exactMatch: false,
    chrf: 50,
    editDistance: 0.5,
    latencyMs: 100,
    ttftMs: 20,
    tier: 'primary',
    backend: 'http://a',
    logLikelihood: { total: -4, tokens: 2 },
    ...over,
  });

  it('counts, rates, means, tiers and log-likelihood per token', () => {
    const m = computeMetrics(
      [
        result({}),
        result({
          exactMatch: true,
          chrf: 100,
          editDistance: 0,
          latencyMs: 300,
          tier: 'over_budget',
        }),
        result({
          firstWordMatch: false,
          chrf: 0,
          editDistance: 1,
          logLikelihood: null,
          tier: 'empty',
        }),
      ],
      '1',
      'the backend returned no prompt logprobs for echo',
    );
    expect(m.examples).toBe(3);
    expect(m.exactFirstWord).toMatchObject({ hits: 2, n: 3 });
    expect(m.exactMatch).toMatchObject({ hits: 1, n: 3 });
    expect(m.chrf.mean).toBe(50);
    expect(m.editDistance.mean).toBe(0.5);
    expect(m.tiers).toEqual({ primary: 1, over_budget: 1, empty: 1 });
    expect(m.latencyMs.p50).toBe(100);
    expect(m.logLikelihood).toMatchObject({ available: true, examples: 2, tokens: 4 });
    expect(m.logLikelihood.perToken.mean).toBe(-2);
    expect(m.logLikelihood.perExample.mean).toBe(-4);
    expect(m.logLikelihood.perplexity).toBeCloseTo(Math.exp(2), 12);
    expect(m.logLikelihood.reason).toMatch(/no prompt logprobs/);
  });
});
