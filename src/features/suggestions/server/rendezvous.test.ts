import { describe, expect, it } from 'vitest';
import { hash32, rendezvousOrder } from './rendezvous';

const backends = ['http://a:8001', 'http://b:8001', 'http://c:8001'];
const home = (unit: string, list = backends) => rendezvousOrder(unit, list, (b) => b)[0];

describe('rendezvous routing', () => {
  it('is a pure function of unit and backends', () => {
    expect(hash32('abc')).toBe(hash32('abc'));
    expect(home('user-1')).toBe(home('user-1'));
    expect(rendezvousOrder('user-1', [...backends].reverse(), (b) => b)).toEqual(
      rendezvousOrder('user-1', backends, (b) => b),
    );
  });

  it('spreads units over backends', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const b = home(`unit-${i}`) ?? '';
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
    for (const b of backends) expect(counts.get(b)).toBeGreaterThan(800);
  });

  it('moves only the units of a backend that drops out', () => {
    const without = backends.filter((b) => b !== 'http://b:8001');
    for (let i = 0; i < 500; i++) {
      const unit = `unit-${i}`;
      const before = home(unit);
      if (before !== 'http://b:8001') expect(home(unit, without)).toBe(before);
    }
  });
});
