import { GrowthBookClient } from '@growthbook/growthbook';
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import { describe, expect, it } from 'vitest';
import {
  assignArm,
  createAssigner,
  fnv1a32,
  getBucketRanges,
  hashV2,
  inHoldout,
} from './assignment';

/** Varied unit ids: uuids, numbers, emails, and non-ASCII (hashing is over UTF-16 code units). */
function unitIds(count: number, prefix = ''): string[] {
  const shapes = [
    (i: number) => `${prefix}${i}`,
    (i: number) =>
      `${prefix}${(i * 2654435761) >>> 0}-4b1c-${i.toString(16).padStart(8, '0')}-a9f0-${(i * 40503) >>> 0}`,
    (i: number) => `${prefix}user${i}@example.com`,
    (i: number) => `${prefix}anon_${i}_Ünïcødé_😀_${i % 97}`,
  ];
  return Array.from({ length: count }, (_, i) =>
    (shapes[i % shapes.length] as (i: number) => string)(i),
  );
}

describe('assignment', () => {
  it('hashes like FNV-1a 32 (published vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('gives the same arm as the GrowthBook SDK on 100,000 ids in each of 10 configurations', () => {
    const client = new GrowthBookClient({});
    const configs: { seed: string; weights: number[]; coverage: number }[] = [
      { seed: 'exp-a', weights: [0.5, 0.5], coverage: 1 },
      { seed: 'exp-a', weights: [0.5, 0.5], coverage: 0.1 },
      { seed: 'salt-9f2c', weights: [0.1, 0.9], coverage: 0.37 },
      { seed: 'three', weights: [1 / 3, 1 / 3, 1 / 3], coverage: 0.5 },
      { seed: 'uneven', weights: [0.2, 0.3, 0.5], coverage: 1 },
      { seed: 'tiny', weights: [0.05, 0.95], coverage: 0.05 },
      { seed: 'four', weights: [0.25, 0.25, 0.25, 0.25], coverage: 0.999 },
      { seed: 'ramp', weights: [0.5, 0.5], coverage: 0.0002 },
      { seed: 'zero-arm', weights: [0.4, 0, 0.6], coverage: 0.8 },
      { seed: 'Ünï', weights: [0.7, 0.3], coverage: 0.63 },
    ];
    let compared = 0;
    let inside = 0;
    for (const [c, config] of configs.entries()) {
      const assign = createAssigner(config);
      // The SDK's type wants at least two variations; every config here has two or more.
      const variations = config.weights.map((_, i) => i) as [number, number, ...number[]];
      for (const unitId of unitIds(100_000, `c${c}-`)) {
        const gb = client.runInlineExperiment(
          {
            key: `key-${c}`,
            seed: config.seed,
            variations,
            weights: config.weights,
            coverage: config.coverage,
            hashVersion: 2,
          },
          { attributes: { id: unitId } },
        );
        const ours = assign(unitId);
        const theirs = gb.inExperiment ? gb.variationId : null;
        if (ours !== theirs) {
          throw new Error(
            `${unitId} in ${JSON.stringify(config)}: ours ${ours}, GrowthBook ${theirs}`,
          );
        }
        compared++;
        if (ours !== null) inside++;
      }
    }
    console.log(
      `assignment: ${compared} evaluations equal to the GrowthBook SDK (${inside} inside coverage)`,
    );
    expect(compared).toBe(1_000_000);
  });

  it('assignArm equals the precomputed assigner and rejects bad weights and coverage', () => {
    const config = { seed: 's', weights: [0.3, 0.7], coverage: 0.5 };
    const assign = createAssigner(config);
    for (const unitId of unitIds(1000))
      expect(assignArm({ ...config, unitId })).toBe(assign(unitId));
    expect(assignArm({ ...config, unitId: '' })).toBeNull();
    expect(() => assignArm({ seed: 's', unitId: 'u', weights: [0.5, 0.6], coverage: 1 })).toThrow(
      /sum to 1/,
    );
    expect(() => assignArm({ seed: 's', unitId: 'u', weights: [], coverage: 1 })).toThrow(
      RangeError,
    );
    expect(() => assignArm({ seed: 's', unitId: 'u', weights: [1.5, -0.5], coverage: 1 })).toThrow(
      RangeError,
    );
    expect(() => assignArm({ seed: 's', unitId: 'u', weights: [1], coverage: 1.2 })).toThrow(
      /Coverage/,
    );
    expect(() => assignArm({ seed: 's', unitId: 'u', weights: [1], coverage: NaN })).toThrow(
      /Coverage/,
    );
  });

  it('lays out ranges like getBucketRanges (coverage shrinks each arm from its own start)', () => {
    expect(getBucketRanges([0.5, 0.5], 0.2)).toEqual([
      [0, 0.1],
      [0.5, 0.6],
    ]);
    expect(getBucketRanges([0.2, 0.3, 0.5], 1)).toEqual([
      [0, 0.2],
      [0.2, 0.5],
      [0.5, 1],
    ]);
  });

  it('never moves a unit to another arm when coverage rises (property, 20,000 ids × 40 schedules)', () => {
    // A seeded generator (mulberry32) for the schedules: the test is reproducible.
    let state = 0x9e3779b9;
    const random = () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const ids = unitIds(20_000, 'p-');
    let joined = 0;
    for (let s = 0; s < 40; s++) {
      const arms = 2 + Math.floor(random() * 3);
      const raw = Array.from({ length: arms }, () => random() + 0.05);
      const total = raw.reduce((a, b) => a + b, 0);
      const weights = raw.map((w) => w / total);
      const coverages = Array.from({ length: 5 }, () => random()).sort((a, b) => a - b);
      coverages.push(1);
      const seed = `prop-${s}`;
      const previous = new Map<string, number | null>();
      for (const coverage of coverages) {
        const assign = createAssigner({ seed, weights, coverage });
        for (const id of ids) {
          const arm = assign(id);
          const before = previous.get(id);
          if (before !== undefined && before !== null && arm !== before) {
            throw new Error(`${id} moved from arm ${before} to ${arm} at coverage ${coverage}`);
          }
          if (before === null && arm !== null) joined++;
          previous.set(id, arm);
        }
      }
      // At full coverage everybody is in.
      expect([...previous.values()].every((arm) => arm !== null)).toBe(true);
    }
    expect(joined).toBeGreaterThan(0);
  });

  it('balances arms over 1,000,000 ids (χ² goodness of fit)', () => {
    const cases = [
      { weights: [0.5, 0.5], coverage: 1 },
      { weights: [0.2, 0.3, 0.5], coverage: 1 },
      { weights: [0.5, 0.5], coverage: 0.3 },
    ];
    for (const { weights, coverage } of cases) {
      const assign = createAssigner({
        seed: `balance-${weights.length}-${coverage}`,
        weights,
        coverage,
      });
      const counts = new Array<number>(weights.length + 1).fill(0); // last: outside coverage
      const n = 1_000_000;
      for (let i = 0; i < n; i++) {
        const arm = assign(`unit-${i}`);
        counts[arm ?? weights.length]! += 1;
      }
      const expected = [...weights.map((w) => w * coverage * n), (1 - coverage) * n];
      let chi2 = 0;
      let df = -1;
      for (let i = 0; i < counts.length; i++) {
        const e = expected[i] as number;
        if (e === 0) continue;
        chi2 += ((counts[i] as number) - e) ** 2 / e;
        df++;
      }
      const p = 1 - chisquareCdf(chi2, df);
      console.log(
        `assignment balance ${JSON.stringify(weights)} coverage ${coverage}: counts ${counts.join('/')} χ²=${chi2.toFixed(2)} df=${df} p=${p.toFixed(3)}`,
      );
      expect(p).toBeGreaterThan(0.001);
    }
  });

  it('holds out a share of units per feature, independently of experiment seeds', () => {
    const ids = unitIds(100_000, 'h-');
    const held = ids.filter((id) => inHoldout('inline-completion', id, 0.1));
    expect(held.length / ids.length).toBeGreaterThan(0.095);
    expect(held.length / ids.length).toBeLessThan(0.105);
    // Monotone in the share.
    for (const id of held) expect(inHoldout('inline-completion', id, 0.2)).toBe(true);
    expect(ids.some((id) => inHoldout('inline-completion', id, 0))).toBe(false);
    // Independent of an experiment's arm: both arms keep their 50/50 split among held-out units.
    const arms = held.map((id) =>
      assignArm({ seed: 'exp', unitId: id, weights: [0.5, 0.5], coverage: 1 }),
    );
    const share = arms.filter((a) => a === 0).length / arms.length;
    expect(Math.abs(share - 0.5)).toBeLessThan(0.02);
    // Another feature's holdout is a different set.
    const other = ids.filter((id) => inHoldout('rewrite', id, 0.1));
    const overlap = other.filter((id) => inHoldout('inline-completion', id, 0.1)).length;
    expect(overlap / other.length).toBeLessThan(0.15);
    expect(hashV2('a', 'b')).toBeGreaterThanOrEqual(0);
  });
});
