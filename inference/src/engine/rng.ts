/**
 * Counter-based random numbers: a uniform in [0, 1) is a pure function of
 * (seed, stream, step, draw), so the same request gives the same text whatever else shares
 * the batch. The mixer is the "lowbias32" integer hash (Wellons), chained over the coordinates.
 */
function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x21f0aaad);
  h ^= h >>> 15;
  h = Math.imul(h, 0x735a2d97);
  h ^= h >>> 15;
  return h >>> 0;
}

function chain(salt: number, words: readonly number[]): number {
  let h = mix32(salt);
  for (const w of words) h = mix32(h ^ mix32(w >>> 0));
  return h;
}

/** Splits a non-negative safe integer seed into two 32-bit words. */
function seedWords(seed: number): [number, number] {
  const s = Math.abs(Math.trunc(seed));
  return [(s % 0x1_0000_0000) >>> 0, Math.floor(s / 0x1_0000_0000) >>> 0];
}

/** Uniform double in [0, 1) with 53 random bits. */
export function uniform(seed: number, stream: number, step: number, draw: number): number {
  const [lo, hi] = seedWords(seed);
  const words = [lo, hi, stream, step, draw];
  const a = chain(0x9e3779b9, words) >>> 5; // 27 bits
  const b = chain(0x85ebca6b, words) >>> 6; // 26 bits
  return (a * 67108864 + b) / 9007199254740992;
}

/** Named draws within one step, so each use of randomness has its own coordinate. */
export const Draw = { sample: 0, accept: 1, resample: 2 } as const;
