import { describe, expect, it } from 'vitest';
import { logSoftmax } from './sampler';
import { ngramDraft, predictionDraft, verifyDraft } from './speculative';

const opts = { maxNgram: 3, minNgram: 1, maxDraft: 4 };

describe('n-gram draft', () => {
  it('continues the most recent earlier occurrence of the longest suffix', () => {
    //            0  1  2  3  4  5  6  7  8
    const hist = [1, 2, 3, 4, 9, 2, 3, 5, 2, 3];
    // suffix [2,3] occurs at 1 and 5; [5,2,3] nowhere earlier, so n=2, most recent at 5 → 5,2,3
    expect(ngramDraft(hist, opts)).toEqual([5, 2, 3, 5]); // then the draft's own start again
    expect(ngramDraft([1, 2, 3], opts)).toEqual([]);
    expect(ngramDraft([7, 8, 7], { ...opts, maxDraft: 2 })).toEqual([8, 7]);
    // a periodic tail continues past the end of history
    expect(ngramDraft([5, 1, 2, 1, 2], opts)).toEqual([1, 2, 1, 2]);
    expect(ngramDraft([7, 8, 7], { ...opts, maxDraft: 0 })).toEqual([]);
  });
  it('drafts from a prediction near the expected position', () => {
    const pred = [10, 11, 12, 13, 11, 12, 14, 15];
    expect(predictionDraft([], pred, opts)).toEqual([10, 11, 12, 13]);
    // output [10, 11, 12, 13, 11, 12]: suffix [13, 11, 12] matches at 3..5 → continue at 6
    expect(predictionDraft([10, 11, 12, 13, 11, 12], pred, opts)).toEqual([14, 15]);
    expect(predictionDraft([99], pred, opts)).toEqual([]);
  });
});

/** Logits rows where token `best[i]` wins at position i. */
const rows =
  (best: number[], vocab = 5) =>
  (i: number) =>
    Array.from({ length: vocab }, (_, v) => (v === best[i] ? 5 : 0));

describe('verifyDraft', () => {
  const greedy = { params: { temperature: 0, topP: 1, topK: 0 }, seed: 1, stream: 0, step: 0 };
  it('greedy: accepts the matching prefix then emits the argmax', () => {
    expect(verifyDraft([1, 2, 3], rows([1, 2, 4, 0]), greedy)).toEqual({
      accepted: 2,
      tokens: [1, 2, 4],
    });
    expect(verifyDraft([1, 2], rows([1, 2, 3]), greedy)).toEqual({
      accepted: 2,
      tokens: [1, 2, 3],
    });
    expect(verifyDraft([], rows([3]), greedy)).toEqual({ accepted: 0, tokens: [3] });
    expect(verifyDraft([4], rows([0, 1]), greedy)).toEqual({ accepted: 0, tokens: [0] });
  });
  it('sampling: the first token follows p whatever the draft (rejection rule)', () => {
    const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.2)];
    const p = logSoftmax(logits).map(Math.exp);
    const n = 20000;
    for (const draftToken of [0, 2]) {
      const counts = [0, 0, 0];
      for (let s = 0; s < n; s++) {
        const r = verifyDraft([draftToken], () => logits, {
          params: { temperature: 1, topP: 1, topK: 0 },
          seed: s,
          stream: 0,
          step: 0,
        });
        counts[r.tokens[0]!]!++;
      }
      counts.forEach((c, v) => expect(Math.abs(c / n - p[v]!)).toBeLessThan(0.015));
    }
  });
});
