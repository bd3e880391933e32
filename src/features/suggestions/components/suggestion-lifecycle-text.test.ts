import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EndedSuggestion, Outcome } from './ghost-text';
import { SuggestionLifecycle, type LifecycleEvent } from './suggestion-lifecycle';

const ended = (
  outcome: Outcome,
  span: EndedSuggestion['acceptedSpan'] = null,
  pos = 3,
): EndedSuggestion => ({
  outcome,
  acceptedSpan: span,
  suggestion: {
    generationId: 'g1',
    tier: 'primary',
    pos,
    text: '',
    original: 'hello world',
    acceptedChars: span ? 11 : 0,
    typedChars: 0,
    acceptStart: null,
  },
});

describe('SuggestionLifecycle with captureText (the feature allows training data)', () => {
  let events: LifecycleEvent[];
  let doc: string;
  const make = (captureText: boolean) =>
    new SuggestionLifecycle({
      report: (e) => events.push(e),
      textAt: (s) => doc.slice(s.from, s.to),
      now: () => Date.now(),
      windows: [{ window: '30s', ms: 30_000 }],
      captureText,
      typedWindowMs: 5_000,
    });
  beforeEach(() => {
    vi.useFakeTimers();
    events = [];
    doc = 'Hi ';
  });
  afterEach(() => vi.useRealTimers());

  it('reports what the user typed instead of a dismissed suggestion, capped, when the window closes', () => {
    const lifecycle = make(true);
    lifecycle.painted('g1', Date.now());
    vi.advanceTimersByTime(1000);
    lifecycle.ended(ended('dismissed'), null);
    expect(events.map((e) => e.type)).toEqual(['shown']); // the decision waits for the text
    // The user types at the suggestion's place, one insertion at a time.
    for (const ch of 'there, how are you doing today? Fine.') {
      const at = doc.length;
      doc += ch;
      lifecycle.mapSpans((pos, assoc) => (pos < at || (pos === at && assoc < 0) ? pos : pos + 1));
    }
    vi.advanceTimersByTime(5_000);
    expect(events[1]).toMatchObject({
      type: 'dismissed',
      payload: { shownToDecisionMs: 1000, typedText: 'there, how are you doing today?' }, // 11 + 20 chars
    });
  });

  it('adds the retained text to retention events, and flushes waiting decisions on submit', () => {
    const lifecycle = make(true);
    doc = 'Hi hello world';
    lifecycle.painted('g1', Date.now());
    vi.advanceTimersByTime(800);
    lifecycle.ended(ended('accepted', { from: 3, to: 14 }), 'hello world');
    vi.advanceTimersByTime(30_000);
    expect(events[2]).toMatchObject({ type: 'retention', payload: { text: 'hello world' } });
    lifecycle.painted('g1', Date.now());
    vi.advanceTimersByTime(800);
    lifecycle.ended(ended('ignored', null, 14), null);
    lifecycle.submitted();
    expect(events.map((e) => e.type)).toEqual([
      'shown',
      'accepted',
      'retention',
      'shown',
      'ignored',
      'retention',
    ]);
    expect(events[4]).toMatchObject({ payload: { typedText: '' } });
  });

  it('sends no text and does not wait when the feature does not allow it', () => {
    const lifecycle = make(false);
    doc = 'Hi hello world';
    lifecycle.painted('g1', Date.now());
    vi.advanceTimersByTime(800);
    lifecycle.ended(ended('dismissed'), null);
    expect(events[1]).toMatchObject({ type: 'dismissed' });
    expect(JSON.stringify(events)).not.toContain('typedText');
  });
});
