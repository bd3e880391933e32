import { describe, expect, it } from 'vitest';
import { wordDiff } from './word-diff';

describe('wordDiff', () => {
  it('marks replaced words', () => {
    expect(wordDiff('I think we should go', 'We should go')).toEqual([
      { kind: 'removed', text: 'I think we ' },
      { kind: 'added', text: 'We ' },
      { kind: 'same', text: 'should go' },
    ]);
  });
  it('reassembles both sides', () => {
    const before = 'Hey, can you send me the file asap?';
    const after = 'Could you please send me the file soon?';
    const parts = wordDiff(before, after);
    expect(
      parts
        .filter((p) => p.kind !== 'added')
        .map((p) => p.text)
        .join(''),
    ).toBe(before);
    expect(
      parts
        .filter((p) => p.kind !== 'removed')
        .map((p) => p.text)
        .join(''),
    ).toBe(after);
  });
  it('groups a changed stretch: all removed words, then all added ones', () => {
    expect(wordDiff('Thanks for your note', 'I am sure about your note')).toEqual([
      { kind: 'removed', text: 'Thanks for ' },
      { kind: 'added', text: 'I am sure about ' },
      { kind: 'same', text: 'your note' },
    ]);
  });
  it('handles empty sides', () => {
    expect(wordDiff('', 'new text')).toEqual([{ kind: 'added', text: 'new text' }]);
    expect(wordDiff('old', '')).toEqual([{ kind: 'removed', text: 'old' }]);
  });
});
