/**
 * KV-cache manager: a byte budget shared by the running sequences (reservations) and a prefix
 * cache of finished sequences' KV (evicted least recently used first). It never throws for
 * lack of memory: `reserve` and `insert` return false when there is no room.
 */
export interface CacheEntry<T> {
  tokens: Int32Array;
  payload: T;
  bytes: number;
}

export interface PrefixHit<T> {
  entry: CacheEntry<T>;
  /** Length of the longest common prefix with the looked-up tokens. */
  length: number;
}

export function commonPrefix(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class KvCacheManager<T> {
  private readonly entries = new Map<number, CacheEntry<T>>(); // insertion order = LRU order
  private readonly reservations = new Map<string, number>();
  private nextKey = 0;
  private reservedBytes = 0;
  private cachedBytes = 0;

  constructor(readonly capacityBytes: number) {}

  get reserved(): number {
    return this.reservedBytes;
  }
  get cached(): number {
    return this.cachedBytes;
  }
  get size(): number {
    return this.entries.size;
  }
  /** Bytes a new reservation could get, evicting the whole prefix cache if need be. */
  get freeBytes(): number {
    return this.capacityBytes - this.reservedBytes;
  }

  private evictUntil(needed: number): boolean {
    while (this.reservedBytes + this.cachedBytes + needed > this.capacityBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) return false;
      const e = this.entries.get(oldest.value);
      this.entries.delete(oldest.value);
      this.cachedBytes -= e?.bytes ?? 0;
    }
    return true;
  }

  /** Reserves bytes for a running sequence; false ("no room") if even an empty cache cannot. */
  reserve(owner: string, bytes: number): boolean {
    if (this.reservations.has(owner)) this.release(owner);
    if (this.reservedBytes + bytes > this.capacityBytes) return false;
    if (!this.evictUntil(bytes)) return false;
    this.reservations.set(owner, bytes);
    this.reservedBytes += bytes;
    return true;
  }

  release(owner: string): void {
    const bytes = this.reservations.get(owner);
    if (bytes === undefined) return;
    this.reservations.delete(owner);
    this.reservedBytes -= bytes;
  }

  /** The cached entry sharing the longest prefix with `tokens` (marked recently used). */
  lookup(tokens: ArrayLike<number>): PrefixHit<T> | null {
    let best: { key: number; entry: CacheEntry<T>; length: number } | null = null;
    for (const [key, entry] of this.entries) {
      const length = commonPrefix(entry.tokens, tokens);
      if (length > 0 && (best === null || length > best.length)) best = { key, entry, length };
    }
    if (best === null) return null;
    this.entries.delete(best.key);
    this.entries.set(best.key, best.entry);
    return { entry: best.entry, length: best.length };
  }

  /**
   * Caches a finished sequence's KV. Entries whose tokens are a prefix of the new one are
   * dropped (the new one serves them too); if an existing entry already covers the new one,
   * nothing is added. Returns false when it does not fit.
   */
  insert(tokens: Int32Array, payload: T, bytes: number): boolean {
    for (const [key, entry] of this.entries) {
      const lcp = commonPrefix(entry.tokens, tokens);
      if (lcp === tokens.length) {
        this.entries.delete(key);
        this.entries.set(key, entry);
        return true;
      }
      if (lcp === entry.tokens.length) {
        this.entries.delete(key);
        this.cachedBytes -= entry.bytes;
      }
    }
    if (bytes > this.capacityBytes - this.reservedBytes) return false;
    if (!this.evictUntil(bytes)) return false;
    this.entries.set(this.nextKey++, { tokens, payload, bytes });
    this.cachedBytes += bytes;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.cachedBytes = 0;
  }
}
