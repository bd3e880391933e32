import { describe, expect, it } from 'vitest';
import { schedule, type SchedulerInput } from './scheduler';

const base: SchedulerInput = {
  decoding: 0,
  prefilling: [],
  waiting: [],
  maxBatch: 4,
  prefillBudget: 100,
  freeBytes: 1000,
  capacityBytes: 1000,
};

describe('scheduler', () => {
  it('admits first come first served up to free slots', () => {
    const d = schedule({
      ...base,
      decoding: 2,
      waiting: ['a', 'b', 'c'].map((id) => ({ id, newTokens: 10, bytes: 100 })),
    });
    expect(d.admit).toEqual(['a', 'b']);
    expect(d.decode).toBe(true);
    expect(d.prefill).toEqual([
      { id: 'a', tokens: 10 },
      { id: 'b', tokens: 10 },
    ]);
  });
  it('does not let a small request overtake one that lacks memory', () => {
    const d = schedule({
      ...base,
      freeBytes: 150,
      waiting: [
        { id: 'big', newTokens: 1, bytes: 200 },
        { id: 'small', newTokens: 1, bytes: 10 },
      ],
    });
    expect(d.admit).toEqual([]);
    expect(d.decode).toBe(false);
  });
  it('rejects requests larger than the whole budget', () => {
    const d = schedule({
      ...base,
      waiting: [
        { id: 'huge', newTokens: 1, bytes: 5000 },
        { id: 'ok', newTokens: 1, bytes: 1 },
      ],
    });
    expect(d.reject).toEqual(['huge']);
    expect(d.admit).toEqual(['ok']);
  });
  it('chunks prefill by the token budget, continuing part-way sequences first', () => {
    const d = schedule({
      ...base,
      prefillBudget: 64,
      prefilling: [{ id: 'p', remaining: 50 }],
      waiting: [{ id: 'w', newTokens: 100, bytes: 1 }],
    });
    expect(d.prefill).toEqual([
      { id: 'p', tokens: 50 },
      { id: 'w', tokens: 14 },
    ]);
  });
});
