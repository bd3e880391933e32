import { describe, expect, it } from 'vitest';
import { editDistance, normalizedEditDistance, retainedChars } from './edit-distance';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['flaw', 'lawn', 2],
    ['same', 'same', 0],
  ])('%s → %s is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('retention measures', () => {
  it('is 0 / full length when the accepted text is untouched', () => {
    expect(normalizedEditDistance('hello world', 'hello world')).toBe(0);
    expect(retainedChars('hello world', 'hello world')).toBe(11);
  });
  it('is 1 / 0 when it was deleted', () => {
    expect(normalizedEditDistance('hello', '')).toBe(1);
    expect(retainedChars('hello', '')).toBe(0);
  });
  it('counts partial edits', () => {
    expect(normalizedEditDistance('see you soon', 'see you, Sam')).toBeCloseTo(5 / 12);
    expect(retainedChars('see you soon', 'see you, Sam')).toBe(7);
    expect(normalizedEditDistance('thanks', 'thanks a lot')).toBeCloseTo(6 / 12);
  });
});
