import { describe, expect, it } from 'vitest';
import { Detokenizer } from './detokenizer';

// A toy vocabulary: token i is the i-th string; token 9 is half of a UTF-8 character.
const vocab = ['Hel', 'lo', ' wor', 'ld', '\n', 'END', 'x'];
const decode = (ids: readonly number[]) =>
  ids.map((i) => (i === 9 ? '\uFFFD' : (vocab[i] ?? ''))).join('');

describe('detokenizer', () => {
  it('streams text and flushes the rest', () => {
    const d = new Detokenizer(decode, []);
    expect(d.push([0, 1])).toBe('Hello');
    expect(d.push([9])).toBe('');
    expect(d.push([2])).toBe('\uFFFD wor');
    expect(d.flush()).toBe('');
  });
  it('cuts at a stop sequence, holding back a possible start of one', () => {
    const d = new Detokenizer(decode, ['END']);
    expect(d.push([0, 1])).toBe('Hello');
    expect(d.push([2, 3])).toBe(' world');
    expect(d.push([5, 6])).toBe('');
    expect(d.stopped).toBe(true);
    expect(d.output).toBe('Hello world');
    expect(d.tokenCount).toBe(5);
  });
  it('keeps the stop sequence with includeStop, dropping what follows it in the same token', () => {
    const d = new Detokenizer(decode, ['wor', 'END'], true, { includeStop: true });
    expect(d.push([0, 1])).toBe('Hello');
    expect(d.push([2, 3])).toBe(' wor');
    expect(d.stopped).toBe(true);
    expect(d.output).toBe('Hello wor');
    expect(d.tokenCount).toBe(3);
    expect(d.push([5])).toBe('');
    // A stop that spans tokens: its start is held back, then released with it.
    const late = new Detokenizer(decode, ['d\nEN'], true, { includeStop: true });
    expect(late.push([0, 3, 4])).toBe('Hell');
    expect(late.push([5, 6])).toBe('d\nEN');
    expect(late.output).toBe('Helld\nEN');
    expect(late.tokenCount).toBe(4);
  });
  it('holds back a suffix that may grow into a stop sequence', () => {
    const d = new Detokenizer(
      (ids) => ids.map((i) => ['a', 'E', 'N', 'b'][i] ?? '').join(''),
      ['END'],
    );
    expect(d.push([0, 1, 2])).toBe('a');
    expect(d.push([3])).toBe('ENb');
    expect(d.stopped).toBe(false);
  });
});
