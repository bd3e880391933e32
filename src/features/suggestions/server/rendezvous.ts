/**
 * Rendezvous (highest-random-weight) hashing: each unit goes to the backend with the highest
 * hash(unit, backend). One user's keystrokes keep landing on the same backend, whose prefix cache
 * already holds their text; when a backend drops out only its own units move.
 */

// FNV-1a (32-bit) with a murmur3 finalizer: fast, well mixed, and stable across processes.
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The candidates ordered by preference for `unitId` (first = its home backend). */
export function rendezvousOrder<T>(
  unitId: string,
  candidates: readonly T[],
  key: (c: T) => string,
): T[] {
  return candidates
    .map((c) => ({ c, score: hash32(`${unitId}\u0000${key(c)}`) }))
    .sort((a, b) => b.score - a.score || (key(a.c) < key(b.c) ? -1 : 1))
    .map((x) => x.c);
}
