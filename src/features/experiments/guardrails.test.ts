import { describe, expect, it } from 'vitest';
import { DEFAULT_GUARDRAILS, type Guardrail } from './config';
import { evaluateExperiment, type ArmData } from './guardrails';
import {
  addUnit,
  compare,
  cuped,
  emptyMoments,
  fixedHalfWidth,
  holm,
  ratioEstimate,
  sequentialHalfWidth,
  srmTest,
  testGuardrail,
} from './stats';
import { BASELINE, seededRandom, simulate } from './testing/simulate';

describe('experiment statistics', () => {
  it('widens the confidence sequence as the note computed (×1.97 at 500, ×1.55 at 5k, ×1.87 at 1M)', () => {
    const ratio = (n: number) =>
      sequentialHalfWidth(1 / n, n, 0.05, { oneSided: false }) / fixedHalfWidth(1 / n, 0.05);
    expect(ratio(500)).toBeCloseTo(1.97, 1);
    expect(ratio(5000)).toBeCloseTo(1.55, 1);
    expect(ratio(1_000_000)).toBeCloseTo(1.87, 1);
    // One-sided at α is narrower than two-sided at α, wider than two-sided at 2α.
    const one = sequentialHalfWidth(1e-4, 5000, 0.05, { oneSided: true });
    expect(one).toBeLessThan(sequentialHalfWidth(1e-4, 5000, 0.05, { oneSided: false }));
  });

  it('the ratio estimate is the mean and s²/n when every unit has one observation', () => {
    const m = emptyMoments();
    const xs = [1, 0, 0, 1, 1, 0, 1, 1];
    for (const x of xs) addUnit(m, x, 1);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const s2 = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1);
    const r = ratioEstimate(m);
    expect(r.mean).toBeCloseTo(mean, 12);
    expect(r.variance).toBeCloseTo(s2 / xs.length, 12);
  });

  it('the delta-method variance matches the spread of the ratio over 2,000 simulated samples', () => {
    const random = seededRandom(7);
    const estimates: number[] = [];
    const predicted: number[] = [];
    for (let rep = 0; rep < 2000; rep++) {
      const m = emptyMoments();
      for (let u = 0; u < 400; u++) {
        const n = 1 + Math.floor(-Math.log(1 - random()) * 4); // clustered: heavy users
        const p = 0.1 + 0.3 * random(); // each unit has its own rate
        let x = 0;
        for (let k = 0; k < n; k++) if (random() < p) x++;
        addUnit(m, x, n);
      }
      const r = ratioEstimate(m);
      estimates.push(r.mean);
      predicted.push(r.variance);
    }
    const mean = estimates.reduce((a, b) => a + b, 0) / estimates.length;
    const empirical = estimates.reduce((a, e) => a + (e - mean) ** 2, 0) / (estimates.length - 1);
    const model = predicted.reduce((a, b) => a + b, 0) / predicted.length;
    console.log(
      `delta method: empirical Var ${empirical.toExponential(3)}, predicted ${model.toExponential(3)}`,
    );
    expect(model / empirical).toBeGreaterThan(0.85);
    expect(model / empirical).toBeLessThan(1.15);
  });

  it('flags a sample-ratio mismatch below p = 0.001 and not a fair split', () => {
    expect(srmTest([5000, 5040], [0.5, 0.5]).pValue).toBeGreaterThan(0.5);
    const bad = srmTest([5000, 5400], [0.5, 0.5]);
    expect(bad.pValue).toBeLessThan(0.001);
    expect(srmTest([2000, 3000, 5000], [0.2, 0.3, 0.5]).pValue).toBeCloseTo(1, 5);
    // Zero-weight arms are skipped.
    expect(srmTest([500, 0, 500], [0.5, 0, 0.5]).df).toBe(1);
  });

  it('Holm adjusts p-values step-down', () => {
    expect(holm([0.01, 0.04, 0.03])).toEqual([0.03, 0.06, 0.06]);
    expect(holm([0.5])).toEqual([0.5]);
  });

  it('compares two arms with a two-sided interval', () => {
    const c = { mean: 0.3, variance: 0.0001, n: 1000 };
    const t = { mean: 0.33, variance: 0.0001, n: 1000 };
    const r = compare(c, t)!;
    expect(r.delta).toBeCloseTo(0.03, 12);
    expect(r.ci[0]).toBeCloseTo(0.03 - 1.959964 * Math.sqrt(0.0002), 5);
    expect(r.pValue).toBeLessThan(0.05);
  });

  it('CUPED reduces the variance when the pre-period predicts the metric', () => {
    const random = seededRandom(11);
    const arm = () => {
      const x: number[] = [];
      const y: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const pre = random();
        x.push(pre);
        y.push(pre + 0.2 * random());
      }
      return { x, y };
    };
    const arms = [arm(), arm()];
    const adjusted = cuped(arms);
    const raw = cuped(arms.map((a) => ({ y: a.y, x: a.y.map(() => 0) })));
    expect(adjusted.theta).toBeGreaterThan(0.8);
    expect(adjusted.arms[0]!.variance).toBeLessThan(raw.arms[0]!.variance / 5);
  });
});

describe('guardrail rule on simulated traffic', () => {
  const guardrails: Guardrail[] = DEFAULT_GUARDRAILS;

  it('A/A: over 500 runs with a check after every batch, false rollbacks stay at or below α', () => {
    const runs = 500;
    let rollbacks = 0;
    let holds = 0;
    const alpha = 0.05;
    for (let run = 0; run < runs; run++) {
      const result = simulate({
        seed: 1000 + run,
        control: BASELINE,
        treatment: BASELINE,
        unitsPerCheck: 200,
        checks: 20,
        guardrails,
        alpha,
      });
      if (result.rolledBackAt !== null) rollbacks++;
      if (result.srmHolds > 0) holds++;
    }
    console.log(
      `A/A: ${rollbacks}/${runs} runs rolled back (rate ${(rollbacks / runs).toFixed(3)}, α ${alpha}); ` +
        `${holds} runs had an SRM hold; 20 checks each, 4,000 units per run`,
    );
    expect(rollbacks / runs).toBeLessThanOrEqual(alpha);
  });

  it('rolls back a planted regression: +5 points of fallback rate', () => {
    const at: number[] = [];
    for (let run = 0; run < 50; run++) {
      const result = simulate({
        seed: 5000 + run,
        control: BASELINE,
        treatment: { ...BASELINE, fallback: BASELINE.fallback + 0.05 },
        unitsPerCheck: 200,
        checks: 30,
        guardrails,
        alpha: 0.05,
      });
      expect(result.rolledBackAt).not.toBeNull();
      if (result.decision?.kind === 'rollback')
        expect(result.decision.check.metric).toBe('fallback_rate');
      at.push(result.rolledBackAt as number);
    }
    at.sort((a, b) => a - b);
    console.log(
      `+5 pt fallback: rolled back in 50/50 runs; checks needed median ${at[25]}, max ${at[49]} (200 units per check)`,
    );
    expect(at[49]).toBeLessThanOrEqual(15);
  });

  it('rolls back a planted regression: +50% latency (p95 share)', () => {
    const at: number[] = [];
    for (let run = 0; run < 50; run++) {
      const result = simulate({
        seed: 9000 + run,
        control: BASELINE,
        treatment: { ...BASELINE, latencyMedianMs: BASELINE.latencyMedianMs * 1.5 },
        unitsPerCheck: 200,
        checks: 30,
        guardrails,
        alpha: 0.05,
      });
      expect(result.rolledBackAt).not.toBeNull();
      at.push(result.rolledBackAt as number);
    }
    at.sort((a, b) => a - b);
    console.log(
      `+50% latency: rolled back in 50/50 runs; checks needed median ${at[25]}, max ${at[49]} (200 units per check)`,
    );
    expect(at[49]).toBeLessThanOrEqual(10);
  });

  it('does not roll back an improvement (fewer fallbacks, more accepts)', () => {
    for (let run = 0; run < 20; run++) {
      const result = simulate({
        seed: 12_000 + run,
        control: BASELINE,
        treatment: { ...BASELINE, fallback: 0.02, accept: 0.4 },
        unitsPerCheck: 200,
        checks: 20,
        guardrails,
        alpha: 0.05,
      });
      expect(result.rolledBackAt).toBeNull();
    }
  });
});

describe('sequential tuning N* on a small experiment (8 units per arm)', () => {
  /**
   * Each check, every unit makes one more suggestion; units fall back at their own rate (control
   * 10–50%, as on a loaded machine). Returns the check that failed the fallback guardrail, or null.
   */
  const run = (seed: number, tuning: number, treatmentRate: number | null) => {
    const random = seededRandom(seed);
    const rate = () => 0.1 + 0.4 * random();
    const arms = [0, 1].map((arm) =>
      Array.from({ length: 8 }, () => ({
        p: arm === 1 && treatmentRate !== null ? treatmentRate : rate(),
        f: 0,
        n: 0,
      })),
    );
    for (let check = 1; check <= 50; check++) {
      for (const u of arms.flat()) {
        u.n++;
        if (random() < u.p) u.f++;
      }
      const [c, t] = arms.map((units) => {
        const m = emptyMoments();
        for (const u of units) addUnit(m, u.f, u.n);
        return m;
      });
      const alpha = 0.05 / DEFAULT_GUARDRAILS.length;
      const result = testGuardrail(c!, t!, { worse: 'higher', margin: 0.02, alpha, tuning });
      if (result?.failed) return check;
    }
    return null;
  };

  it('at the smallest N* allowed (300), A/A false rollbacks stay at or below the test’s α', () => {
    let rollbacks = 0;
    for (let seed = 0; seed < 1000; seed++) if (run(seed, 300, null) !== null) rollbacks++;
    console.log(`N* 300, 16 units, 50 looks: ${rollbacks}/1000 A/A runs rolled back`);
    expect(rollbacks / 1000).toBeLessThanOrEqual(0.05 / DEFAULT_GUARDRAILS.length);
  });

  it('N* near the sample catches an arm that always falls back; GrowthBook’s 5000 often cannot', () => {
    const missed = (tuning: number) =>
      Array.from({ length: 200 }, (_, seed) => run(10_000 + seed, tuning, 1)).filter(
        (k) => k === null,
      ).length;
    const [small, large] = [missed(300), missed(5000)];
    console.log(
      `always-fallback arm missed in 50 looks: N* 300 ${small}/200, N* 5000 ${large}/200`,
    );
    expect(small).toBe(0);
    expect(large).toBeGreaterThan(20);
  });
});

describe('ramp decisions', () => {
  const moments = (rate: number, units: number) => {
    const m = emptyMoments();
    for (let i = 0; i < units; i++) addUnit(m, i < rate * units ? 1 : 0, 1);
    return m;
  };
  const arm = (id: string, isControl: boolean, exposures: number, rate = 0.1): ArmData => ({
    armId: id,
    name: id,
    isControl,
    weight: 0.5,
    exposures,
    metrics: {
      fallback_rate: moments(rate, exposures),
      dismissal_rate: moments(0.2, exposures),
      acceptance_rate: moments(0.3, exposures),
      latency_p95: moments(0.05, exposures),
    },
  });
  const ramp = [
    { coverage: 0.1, minDurationMinutes: 30, minUnitsPerArm: 200 },
    { coverage: 0.5, minDurationMinutes: 30, minUnitsPerArm: 200 },
  ];
  const base = {
    status: 'running' as const,
    guardrails: DEFAULT_GUARDRAILS,
    alpha: 0.05,
    ramp,
    rampStep: 0,
    stepStartedAt: new Date('2026-01-01T00:00:00Z'),
  };

  it('advances once the step lasted long enough and reached its sample', () => {
    const arms = [arm('c', true, 300), arm('t', false, 300)];
    expect(
      evaluateExperiment({ ...base, arms, now: new Date('2026-01-01T00:10:00Z') }).decision,
    ).toMatchObject({ kind: 'continue', note: expect.stringContaining('10 of 30 minutes') });
    expect(
      evaluateExperiment({ ...base, arms, now: new Date('2026-01-01T00:31:00Z') }).decision,
    ).toEqual({ kind: 'advance', toStep: 1 });
    const small = [arm('c', true, 150), arm('t', false, 150)];
    expect(
      evaluateExperiment({ ...base, arms: small, now: new Date('2026-01-01T01:00:00Z') }).decision,
    ).toMatchObject({
      kind: 'continue',
      note: 'step 1 waits for 200 exposed units per arm (c: 150, t: 150)',
    });
    // Enough exposed units, but a guardrail short of its sample (no shown suggestions in "t").
    const unshown = arm('t', false, 300);
    unshown.metrics.acceptance_rate = moments(0.3, 1);
    expect(
      evaluateExperiment({
        ...base,
        arms: [arm('c', true, 300), unshown],
        now: new Date('2026-01-01T01:00:00Z'),
      }).decision,
    ).toEqual({
      kind: 'continue',
      note: 'step 1 waits for guardrails without their minimum sample: Acceptance rate (drop) of "t" (n 300 / 1 of 100)',
    });
    // Paused or at the last step: no move.
    expect(
      evaluateExperiment({ ...base, status: 'paused', arms, now: new Date('2026-01-01T01:00:00Z') })
        .decision.kind,
    ).toBe('continue');
    expect(
      evaluateExperiment({ ...base, rampStep: 1, arms, now: new Date('2026-01-01T01:00:00Z') })
        .decision,
    ).toMatchObject({ kind: 'continue', note: 'at the last ramp step' });
  });

  it('holds on a sample-ratio mismatch and rolls back on a crossed guardrail first', () => {
    const now = new Date('2026-01-01T01:00:00Z');
    const srm = evaluateExperiment({
      ...base,
      arms: [arm('c', true, 1000), arm('t', false, 1300)],
      now,
    });
    expect(srm.decision.kind).toBe('hold');
    const bad = evaluateExperiment({
      ...base,
      arms: [arm('c', true, 2000, 0.05), arm('t', false, 2600, 0.3)],
      now,
    });
    expect(bad.decision).toMatchObject({ kind: 'rollback', check: { metric: 'fallback_rate' } });
  });
});
