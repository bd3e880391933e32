/**
 * Experiment assignment: a pure function of (seed, unit id, weights, coverage), the same in the
 * browser and in Node, with no I/O (DESIGN principle 3).
 *
 * It follows GrowthBook's semantics exactly, so a team that also runs GrowthBook gets the same arm
 * for the same seed and unit:
 * - hash version 2: FNV-1a 32 of `seed + unitId`, its decimal string hashed again with FNV-1a 32,
 *   modulo 10,000, divided by 10,000 (a bucket in [0, 1) with a resolution of 1/10,000);
 * - `getBucketRanges`: arm i owns `[start_i, start_i + coverage·w_i)` where start_i is the sum of
 *   the weights before it. Coverage shrinks each arm from its own start and never moves a start,
 *   so raising coverage only adds units: nobody changes arm;
 * - ranges are half-open; a bucket in no range is outside the experiment (null).
 *
 * Floating-point operations are done in the same order as GrowthBook's so that bucket boundaries
 * fall on the same side.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Continues an FNV-1a 32 state over `str` (UTF-16 code units, as GrowthBook's `hashFnv32a`). */
function fnvUpdate(state: number, str: string): number {
  let h = state;
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i);
    // × the FNV prime modulo 2^32 (GrowthBook writes it as shift-adds; same result).
    h = Math.imul(h, FNV_PRIME);
  }
  return h;
}

/** FNV-1a, 32 bits, over UTF-16 code units (as GrowthBook's `hashFnv32a`). */
export function fnv1a32(str: string): number {
  return fnvUpdate(FNV_OFFSET, str) >>> 0;
}

/** FNV-1a 32 of the decimal string of a uint32, without making the string. */
function fnvOfDecimal(value: number): number {
  let divisor = 1;
  while (divisor * 10 <= value) divisor *= 10;
  let h = FNV_OFFSET;
  for (; divisor >= 1; divisor /= 10) {
    const digit = Math.floor(value / divisor) % 10;
    h = Math.imul(h ^ (48 + digit), FNV_PRIME);
  }
  return h >>> 0;
}

/** The bucket (0..9999) of hash v2 from the FNV state after the seed. */
function bucketFrom(seedState: number, unitId: string): number {
  return fnvOfDecimal(fnvUpdate(seedState, unitId) >>> 0) % 10000;
}

/** GrowthBook hash v2: a bucket in [0, 1) with 10,000 steps. */
export function hashV2(seed: string, unitId: string): number {
  return bucketFrom(fnvUpdate(FNV_OFFSET, seed), unitId) / 10000;
}

export type BucketRange = readonly [start: number, end: number];

const WEIGHT_TOLERANCE = 1e-6;

/** Throws a RangeError unless the weights are finite, non-negative and sum to 1. */
export function checkWeights(weights: readonly number[]): void {
  if (weights.length === 0) throw new RangeError('An experiment needs at least one arm');
  let sum = 0;
  for (const w of weights) {
    if (!Number.isFinite(w) || w < 0) throw new RangeError(`Weight ${w} is not in [0, 1]`);
    sum += w;
  }
  if (Math.abs(sum - 1) > WEIGHT_TOLERANCE)
    throw new RangeError(`Weights must sum to 1 (they sum to ${sum})`);
}

function checkCoverage(coverage: number): void {
  if (!(coverage >= 0 && coverage <= 1))
    throw new RangeError(`Coverage ${coverage} is not in [0, 1]`);
}

/** GrowthBook's `getBucketRanges` for valid weights and coverage. */
export function getBucketRanges(weights: readonly number[], coverage: number): BucketRange[] {
  checkWeights(weights);
  checkCoverage(coverage);
  let cumulative = 0;
  return weights.map((w) => {
    const start = cumulative;
    cumulative += w;
    return [start, start + coverage * w] as const;
  });
}

/** The first half-open range that holds `n`, or null. */
export function chooseArm(n: number, ranges: readonly BucketRange[]): number | null {
  for (let i = 0; i < ranges.length; i++) {
    const range = ranges[i] as BucketRange;
    if (n >= range[0] && n < range[1]) return i;
  }
  return null;
}

export interface AssignArmInput {
  /** The experiment's hash seed (its salt). */
  seed: string;
  /** The unit (user or anonymous id). */
  unitId: string;
  /** One weight per arm, summing to 1. */
  weights: readonly number[];
  /** Share of units in the experiment, 0..1. */
  coverage: number;
}

/** The arm index for this unit, or null when the unit is outside the experiment's coverage. */
export function assignArm({ seed, unitId, weights, coverage }: AssignArmInput): number | null {
  checkWeights(weights);
  checkCoverage(coverage);
  if (unitId === '') return null; // GrowthBook skips units without a hash value
  const n = hashV2(seed, unitId);
  // getBucketRanges and chooseArm without allocating: the same floating-point operations.
  let cumulative = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] as number;
    const start = cumulative;
    cumulative += w;
    if (n >= start && n < start + coverage * w) return i;
  }
  return null;
}

/**
 * The same assignment with the ranges and the seed's hash state computed once: for the request
 * path, which evaluates one configuration for many units.
 */
export function createAssigner(
  config: Omit<AssignArmInput, 'unitId'>,
): (unitId: string) => number | null {
  const ranges = getBucketRanges(config.weights, config.coverage);
  const starts = Float64Array.from(ranges, (r) => r[0]);
  const ends = Float64Array.from(ranges, (r) => r[1]);
  const seedState = fnvUpdate(FNV_OFFSET, config.seed);
  return (unitId) => {
    if (unitId === '') return null;
    const n = bucketFrom(seedState, unitId) / 10000;
    for (let i = 0; i < starts.length; i++) {
      if (n >= (starts[i] as number) && n < (ends[i] as number)) return i;
    }
    return null;
  };
}

/** The seed of a feature's holdout: independent of every experiment's seed. */
export function holdoutSeed(featureId: string): string {
  return `__holdout__/${featureId}`;
}

/**
 * Whether a unit is in the feature's holdout (a share of units no experiment on the feature
 * touches). Monotone: raising the share only adds units to the holdout.
 */
export function inHoldout(featureId: string, unitId: string, holdoutShare: number): boolean {
  if (holdoutShare <= 0) return false;
  return hashV2(holdoutSeed(featureId), unitId) < holdoutShare;
}
