import { describe, expect, it } from 'vitest';
import { commonPrefix, KvCacheManager } from './kv-cache';

const t = (...xs: number[]) => Int32Array.from(xs);

describe('kv-cache manager', () => {
  it('finds the longest common prefix', () => {
    const c = new KvCacheManager<string>(1000);
    c.insert(t(1, 2, 3, 4), 'a', 10);
    c.insert(t(1, 2, 9), 'b', 10);
    expect(commonPrefix([1, 2, 3], [1, 2, 4])).toBe(2);
    expect(c.lookup([1, 2, 3, 4, 5])).toMatchObject({ length: 4, entry: { payload: 'a' } });
    expect(c.lookup([1, 2, 9, 9])).toMatchObject({ length: 3, entry: { payload: 'b' } });
    expect(c.lookup([7])).toBeNull();
  });
  it('evicts least recently used entries to stay within bytes', () => {
    const c = new KvCacheManager<string>(100);
    c.insert(t(1), 'a', 40);
    c.insert(t(2), 'b', 40);
    c.lookup([1]); // a is now most recent
    c.insert(t(3), 'c', 40);
    expect(c.lookup([2])).toBeNull();
    expect(c.lookup([1])?.entry.payload).toBe('a');
    expect(c.cached).toBe(80);
  });
  it('says "no room" instead of throwing, and reservations evict the cache', () => {
    const c = new KvCacheManager<string>(100);
    c.insert(t(1), 'a', 60);
    expect(c.reserve('r1', 50)).toBe(true); // evicts 'a'
    expect(c.size).toBe(0);
    expect(c.reserve('r2', 60)).toBe(false);
    expect(c.insert(t(5), 'x', 60)).toBe(false);
    c.release('r1');
    expect(c.reserve('r2', 60)).toBe(true);
    expect(c.freeBytes).toBe(40);
  });
  it('replaces entries the new one extends and skips ones already covered', () => {
    const c = new KvCacheManager<string>(1000);
    c.insert(t(1, 2), 'short', 10);
    c.insert(t(1, 2, 3), 'long', 15);
    expect(c.size).toBe(1);
    c.insert(t(1, 2), 'again', 10);
    expect(c.size).toBe(1);
    expect(c.cached).toBe(15);
  });
});
