import { describe, expect, it } from 'vitest';
import { WRITER_BEHAVIOUR as P } from './behaviour';
import { compare, simulateDocument, type DocumentTally } from './offline-harness';

const DOC = {
  id: 'd1',
  text: 'Thank you for the report. The meeting is moved to Thursday at noon, please tell the others. We will meet in the small room on the second floor and bring the minutes of the last meeting with you.',
};

/** A model that always suggests the writer's next `n` words (an oracle), or always nonsense. */
const oracle = (n: number) => (before: string) => {
  const rest = DOC.text.slice(before.length);
  return Promise.resolve((rest.match(/\s*\S+/g) ?? []).slice(0, n).join(''));
};
const nonsense = () => Promise.resolve(' zebra zebra');

describe('offline harness', () => {
  it('is a pure function of the seed, the document and the answers', async () => {
    const run = () =>
      simulateDocument({
        seed: 's',
        writerId: 'w',
        doc: DOC,
        params: P,
        latencyMs: 40,
        suggest: oracle(2),
      });
    expect(await run()).toEqual(await run());
  });

  it('takes right suggestions and keeps their text; never takes wrong ones', async () => {
    const shown: (string | null)[] = [];
    const right = await simulateDocument({
      seed: 's',
      writerId: 'w',
      doc: DOC,
      params: P,
      latencyMs: 40,
      suggest: oracle(1),
      onShown: (_, __, kept) => shown.push(kept),
    });
    const wrong = await simulateDocument({
      seed: 's',
      writerId: 'w',
      doc: DOC,
      params: P,
      latencyMs: 40,
      suggest: nonsense,
    });
    expect(right.shown).toBeGreaterThan(0);
    expect(right.taken / right.shown).toBeGreaterThan(0.7);
    expect(right.keptChars).toBeGreaterThan(0);
    expect(shown.filter((k) => k !== null).length).toBe(right.taken);
    expect(wrong.taken).toBe(0);
    expect(wrong.keptChars).toBe(0);
  });

  it('compares two models on the same documents with a paired interval', () => {
    const t = (taken: number, shown: number): DocumentTally => ({
      documentId: `${taken}/${shown}`,
      requests: 10,
      answered: 10,
      shown,
      taken,
      keptChars: taken * 4,
    });
    const a = Array.from({ length: 40 }, (_, i) => t(i % 3 === 0 ? 1 : 0, 5));
    const b = a.map((x) => t(x.taken + 1, 5));
    const c = compare(a, b);
    expect(c.acceptance.delta).toBeCloseTo(0.2, 10);
    expect(c.acceptance.ci95[0]).toBeGreaterThan(0);
    expect(c.keptCharsPerOpportunity.delta).toBeCloseTo(0.4, 10);
    expect(compare(a, a).acceptance.ci95).toEqual([0, 0]);
    expect(() => compare(a, b.slice(1))).toThrow(/same documents/);
  });
});
