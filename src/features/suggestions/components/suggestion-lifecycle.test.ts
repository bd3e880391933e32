import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EndedSuggestion, Outcome } from './ghost-text';
import { SuggestionLifecycle, type LifecycleEvent } from './suggestion-lifecycle';

const ended = (
  outcome: Outcome,
  span: EndedSuggestion['acceptedSpan'] = null,
  acceptedChars = 0,
): EndedSuggestion => ({
  outcome,
  acceptedSpan: span,
  suggestion: {
    generationId: 'g1',
    tier: 'primary',
    pos: 0,
    text: '',
    original: 'hello world',
    acceptedChars,
    typedChars: 0,
    acceptStart: null,
  },
});

describe('SuggestionLifecycle', () => {
  let events: LifecycleEvent[];
  let doc: string;
  let lifecycle: SuggestionLifecycle;
  beforeEach(() => {
    vi.useFakeTimers();
    events = [];
    doc = '';
    lifecycle = new SuggestionLifecycle({
      report: (e) => events.push(e),
      textAt: (s) => doc.slice(s.from, s.to),
      now: () => Date.now(),
      windows: [{ window: '30s', ms: 30_000 }],
    });
  });
  afterEach(() => vi.useRealTimers());

  it('counts a suggestion as shown only after the gate', () => {
    lifecycle.painted('g1', Date.now() - 5);
    vi.advanceTimersByTime(749);
    expect(events).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(events).toEqual([
      {
        generationId: 'g1',
        type: 'shown',
        payload: { gateMs: 750, visibleMs: 750, responseToShownMs: 5 },
      },
    ]);
    vi.advanceTimersByTime(1000);
    lifecycle.ended(ended('dismissed'), null);
    expect(events[1]).toMatchObject({ type: 'dismissed', payload: { shownToDecisionMs: 1750 } });
  });

  it('reports nothing for a suggestion dropped before the gate', () => {
    lifecycle.painted('g1', Date.now());
    vi.advanceTimersByTime(200);
    lifecycle.ended(ended('ignored'), null);
    vi.advanceTimersByTime(5000);
    expect(events).toEqual([]);
  });

  it('treats a quick accept as shown, then tracks retention of the re-anchored span', () => {
    doc = 'Hi hello world';
    lifecycle.painted('g1', Date.now());
    vi.advanceTimersByTime(300);
    lifecycle.ended(ended('accepted', { from: 3, to: 14 }, 11), 'hello world');
    expect(events.map((e) => e.type)).toEqual(['shown', 'accepted']);
    expect(events[0]).toMatchObject({ payload: { visibleMs: 300 } });

    // The user prepends text and rewrites part of the accepted span.
    doc = 'Oh! Hi hello there';
    lifecycle.mapSpans((pos) => pos + 4);
    lifecycle.mapSpans((pos, assoc) => (pos === 18 && assoc === -1 ? 18 : pos));
    vi.advanceTimersByTime(30_000);
    expect(events[2]).toMatchObject({
      type: 'retention',
      payload: { window: '30s', acceptedChars: 11, retainedChars: 6 },
    });

    lifecycle.submitted();
    expect(events[3]).toMatchObject({ type: 'retention', payload: { window: 'submit' } });
  });
});
