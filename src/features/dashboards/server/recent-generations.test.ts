import { describe, expect, it } from 'vitest';
import { ABORTED_ERROR } from '~/features/feedback/metrics';
import { describeOutcome, type OutcomeInput } from './recent-generations';

const now = new Date(Date.UTC(2026, 11, 4, 12));
const at = (secondsAgo: number) => new Date(now.getTime() - secondsAgo * 1000);
const base: OutcomeInput = {
  tier: 'primary',
  output: ' world',
  error: null,
  createdAt: at(60),
  events: [],
};
const shown = { type: 'shown', payload: { gateMs: 500, responseToShownMs: 4 } };

describe('describeOutcome', () => {
  it('says a suggestion that went before the gate was not shown, with the gate', () => {
    expect(describeOutcome(base, now)).toBe(
      'dismissed or typed past before it was shown (visible under the 750 ms gate; not counted)',
    );
    expect(
      describeOutcome(
        { ...base, events: [{ type: 'dismissed', payload: { shownToDecisionMs: 200 } }] },
        now,
      ),
    ).toBe('dismissed before it was shown (visible under the 750 ms gate; not counted)');
    expect(describeOutcome({ ...base, createdAt: at(2) }, now)).toBe(
      'not shown yet (counts once visible for 750 ms)',
    );
  });

  it('tells the path of a shown suggestion with the gate it passed', () => {
    expect(
      describeOutcome(
        {
          ...base,
          events: [
            shown,
            { type: 'accepted_partial', payload: {} },
            { type: 'retention', payload: {} },
            { type: 'retention', payload: {} },
          ],
        },
        now,
      ),
    ).toBe('shown (≥ 500 ms) → accepted in part → 2 retention checks');
    expect(describeOutcome({ ...base, events: [shown] }, now)).toBe(
      'shown (≥ 500 ms), no decision yet',
    );
  });

  it('names suggestions that never reached the page', () => {
    expect(describeOutcome({ ...base, error: ABORTED_ERROR }, now)).toMatch(
      /superseded the request/,
    );
    expect(describeOutcome({ ...base, tier: 'none', output: '' }, now)).toBe(
      'no suggestion: every tier came back empty',
    );
    expect(
      describeOutcome({ ...base, tier: 'none', output: '', error: 'backend timeout' }, now),
    ).toBe('no suggestion (backend timeout)');
  });
});
