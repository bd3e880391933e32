import { describe, expect, it } from 'vitest';
import {
  chrF,
  editDistanceScore,
  exactMatch,
  firstWord,
  firstWordMatch,
  keptLogLikelihood,
  type EchoLogprobs,
} from './scores';

describe('chrF', () => {
  // Reference values: sacreBLEU 2.6.0 `CHRF().sentence_score(hyp, [ref]).score`
  // (signature nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no), from the local wheel mirror.
  const cases: [string, string, number][] = [
    ['the cat sat on the mat', 'the cat sat on the mat', 100],
    ['the cat sat on the mat', 'the cat is on the mat', 64.5779420625287],
    ['your order has shipped', 'your order shipped today', 60.32464096428786],
    ['Thank you for your help.', 'thanks for all the help', 23.77722722221064],
    ['abc', 'xyz', 0],
    ['', 'something', 0],
    ['something', '', 0],
    ['', '', 0],
    ['a', 'a', 100],
    ['naïve café — déjà vu', 'naive cafe deja vu', 27.112060920157056],
    ['😀 smile', '😀 smiles', 77.57103344229319],
  ];
  it.each(cases)('chrF(%j, %j) = %d (as sacreBLEU)', (hyp, ref, expected) => {
    expect(chrF(hyp, ref)).toBeCloseTo(expected, 9);
  });

  it('weighs recall twice as much as precision (β = 2)', () => {
    // A candidate that says less than the kept text loses more than one that says more.
    expect(chrF('the cat', 'the cat sat')).toBeLessThan(chrF('the cat sat on', 'the cat sat'));
  });
});

describe('exact match', () => {
  it('compares whole suggestions without the surrounding whitespace', () => {
    expect(exactMatch(' your order', 'your order ')).toBe(true);
    expect(exactMatch('your order', 'your orders')).toBe(false);
    expect(exactMatch('Your order', 'your order')).toBe(false);
  });
  it('compares first words', () => {
    expect(firstWord('  hello there')).toBe('hello');
    expect(firstWord('   ')).toBe('');
    expect(firstWordMatch(' order has shipped', 'order is late')).toBe(true);
    expect(firstWordMatch('orders', 'order is late')).toBe(false);
    expect(firstWordMatch('', '')).toBe(false);
  });
});

describe('normalized edit distance', () => {
  it('is Levenshtein over the longer length', () => {
    expect(editDistanceScore('kitten', 'sitting')).toBeCloseTo(3 / 7, 12);
    expect(editDistanceScore('same', 'same')).toBe(0);
    expect(editDistanceScore('', 'abc')).toBe(1);
    expect(editDistanceScore('abc', 'xyz')).toBe(1);
  });
});

describe('log-likelihood of the kept text from an echo', () => {
  // "Thank you" + " for your help": tokens as a GPT-2 tokenizer splits them.
  const context = 'Thank you';
  const kept = ' for your help';
  const echo: EchoLogprobs = {
    tokens: ['Thank', ' you', ' for', ' your', ' help'],
    token_logprobs: [null, -0.5, -1.25, -0.75, -2],
    text_offset: [0, 5, 9, 13, 18],
  };
  const at = { contextChars: context.length, totalChars: (context + kept).length };

  it('sums the logprobs of the tokens of the kept text', () => {
    expect(keptLogLikelihood(echo, at)).toEqual({ ok: true, total: -4, tokens: 3 });
  });

  it('counts a token that straddles the join (the tokenizer merged across it)', () => {
    const merged: EchoLogprobs = {
      tokens: ['Thank', ' yo', 'u for', ' your', ' help'],
      token_logprobs: [null, -0.5, -1, -0.75, -2],
      text_offset: [0, 5, 8, 13, 18],
    };
    expect(keptLogLikelihood(merged, at)).toEqual({ ok: true, total: -3.75, tokens: 3 });
  });

  it('counts byte pieces of a multi-byte character at the join (zero-width offsets)', () => {
    // "Hi" + "é!": "é" is two byte-level tokens, the first of width 0 at the join.
    const pieces: EchoLogprobs = {
      tokens: ['Hi', '\uFFFD', 'é', '!'],
      token_logprobs: [null, -1, -0.5, -0.25],
      text_offset: [0, 2, 2, 3],
    };
    expect(keptLogLikelihood(pieces, { contextChars: 2, totalChars: 4 })).toEqual({
      ok: true,
      total: -1.75,
      tokens: 3,
    });
  });

  it('gives a reason when the backend returned no prompt logprobs', () => {
    expect(keptLogLikelihood(null, at)).toMatchObject({ ok: false });
    // Logprobs of generated tokens only (a backend that ignores echo for logprobs): none cover it.
    const generatedOnly: EchoLogprobs = {
      tokens: ['.'],
      token_logprobs: [-1],
      text_offset: [at.totalChars],
    };
    expect(keptLogLikelihood(generatedOnly, at)).toEqual({
      ok: false,
      reason: 'the echo did not cover the kept text (no prompt logprobs)',
    });
    const missing = { ...echo, token_logprobs: [null, -0.5, null, -0.75, -2] };
    expect(keptLogLikelihood(missing, at)).toMatchObject({ ok: false });
  });
});
