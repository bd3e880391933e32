/**
 * Every choice a simulated writer makes is a pure function of (seed, writer id, step, purpose):
 * 52 bits of SHA-256 as a number in [0, 1). Never `Math.random()`, never process state, so the
 * same seed gives the same writers on any machine and in any interleaving of their requests.
 */
import { createHash } from 'node:crypto';

export interface Coordinates {
  seed: string;
  writerId: string;
  /** The writer's own step counter (one per suggestion opportunity). */
  step: number;
}

export function draw(at: Coordinates, purpose: string): number {
  const hex = createHash('sha256')
    .update(`${purpose}\u0000${at.seed}\u0000${at.writerId}\u0000${at.step}`)
    .digest('hex')
    .slice(0, 13);
  return parseInt(hex, 16) / 2 ** 52;
}

/** A log-normal duration with the given median and spread (Box–Muller on two draws). */
export function logNormal(
  at: Coordinates,
  purpose: string,
  shape: { medianMs: number; sigma: number; minMs?: number; maxMs?: number },
): number {
  const u1 = Math.max(draw(at, `${purpose}:1`), 1e-12);
  const u2 = draw(at, `${purpose}:2`);
  const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  const value = shape.medianMs * Math.exp(shape.sigma * normal);
  return Math.min(shape.maxMs ?? Infinity, Math.max(shape.minMs ?? 0, value));
}

/** Stable order of items by a hash of (seed, purpose, key): a seeded shuffle without state. */
export function seededOrder<T>(items: readonly T[], seed: string, key: (item: T) => string): T[] {
  const weight = (item: T) =>
    createHash('sha256')
      .update(`order\u0000${seed}\u0000${key(item)}`)
      .digest('hex');
  return items
    .map((item) => ({ item, w: weight(item) }))
    .sort((a, b) => (a.w < b.w ? -1 : a.w > b.w ? 1 : 0))
    .map(({ item }) => item);
}
