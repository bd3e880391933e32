import { describe, expect, it } from 'vitest';
import { prepareSource, preparedCorpus, suggestNgram } from './ngram-suggester';

const corpus = prepareSource(
  'Thank you for your message. I will get back to you soon.\nPlease let me know if you have any questions.',
);
const opts = { maxWords: 12, stopAtSentenceEnd: true };

describe('n-gram suggester', () => {
  it('continues from the corpus, finishing a word cut at the cursor', () => {
    expect(suggestNgram({ textBefore: 'Hi,\nThank you for', corpus }, opts)).toEqual({
      text: ' your message.',
      source: 'corpus',
    });
    expect(suggestNgram({ textBefore: 'Please let me kn', corpus }, opts).text).toBe(
      'ow if you have any questions.',
    );
  });

  it("prefers the user's own earlier text (most recent occurrence) over the corpus", () => {
    const textBefore =
      'The party is at Café Rosa. Later: the party is at Hotel Ritz. So remember, the party is at ';
    expect(suggestNgram({ textBefore, corpus }, opts)).toEqual({
      text: 'Hotel Ritz.',
      source: 'user',
    });
    // Text after the cursor is the user's too.
    expect(
      suggestNgram({ textBefore: 'Send it to ', textAfter: 'Later, send it to Bob at noon.' }, opts)
        .text,
    ).toBe('Bob at noon.');
  });

  it('matches case-insensitively, at word starts only, and never across a line break', () => {
    expect(suggestNgram({ textBefore: 'THANK YOU FOR', corpus }, opts).text).toBe(' your message.');
    expect(suggestNgram({ textBefore: 'ank', corpus }, opts).text).toBe(''); // not inside "Thank"
    const lines = prepareSource('good morning\nteam, how are you');
    expect(suggestNgram({ textBefore: 'good morning', corpus: lines }, opts).text).toBe('');
  });

  it('limits words and stops at a sentence end (not after Mr.)', () => {
    const src = prepareSource('we met Mr. Smith and his dog at the park. Then we left.');
    expect(suggestNgram({ textBefore: 'we met', corpus: src }, opts).text).toBe(
      ' Mr. Smith and his dog at the park.',
    );
    expect(suggestNgram({ textBefore: 'we met', corpus: src }, { maxWords: 3 }).text).toBe(
      ' Mr. Smith and',
    );
  });

  it('says nothing for empty, unknown or too short context', () => {
    expect(suggestNgram({ textBefore: '', corpus }, opts)).toEqual({ text: '', source: null });
    expect(suggestNgram({ textBefore: 'zzz qqq', corpus }, opts).text).toBe('');
    expect(suggestNgram({ textBefore: 'I', corpus }, opts).text).toBe('');
    expect(suggestNgram({ textBefore: 'Thank you', corpus }, { maxWords: 0 }).text).toBe('');
  });

  it('is deterministic and caches prepared corpora', () => {
    const a = suggestNgram({ textBefore: 'I will get', corpus }, opts);
    expect(suggestNgram({ textBefore: 'I will get', corpus }, opts)).toEqual(a);
    expect(preparedCorpus('x y z')).toBe(preparedCorpus('x y z'));
  });
});
