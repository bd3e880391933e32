import { describe, expect, it } from 'vitest';
import { feedbackEventSchema } from '~/features/feedback/events';
import {
  abortAfterMs,
  experiencedLatencyMs,
  matchingPrefixChars,
  patienceMs,
  pausesAt,
  react,
  WRITER_BEHAVIOUR as P,
  words,
} from './behaviour';
import { decisionEvents, dueRetentionEvents, eventId, type TrackedAccept } from './feedback-events';
import { draw, seededOrder, type Coordinates } from './random';
import { documentToWrite, nextWordEnd } from './writer';

const at = (step: number, seed = 's1', writerId = 'w1'): Coordinates => ({ seed, writerId, step });
const INTENDED = ' the meeting is moved to Thursday at noon, please tell the others.';
const many = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('random coordinates', () => {
  it('are a pure function of seed, writer and step', () => {
    expect(draw(at(3), 'x')).toBe(draw(at(3), 'x'));
    expect(draw(at(3), 'x')).not.toBe(draw(at(4), 'x'));
    expect(draw(at(3), 'x')).not.toBe(draw(at(3, 's2'), 'x'));
    expect(draw(at(3), 'x')).not.toBe(draw(at(3, 's1', 'w2'), 'x'));
    const values = many(5000).map((i) => draw(at(i), 'u'));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
  });

  it('orders items by seed alone', () => {
    const items = ['a', 'b', 'c', 'd', 'e', 'f'];
    expect(seededOrder(items, 'k', (x) => x)).toEqual(
      seededOrder([...items].reverse(), 'k', (x) => x),
    );
    expect(seededOrder(items, 'k', (x) => x)).not.toEqual(seededOrder(items, 'other', (x) => x));
  });
});

describe('text helpers', () => {
  it('splits words with their leading space and matches whole words only', () => {
    expect(words(' the meeting  is')).toEqual([' the', ' meeting', '  is']);
    expect(matchingPrefixChars(' the meeting was', INTENDED)).toBe(' the meeting'.length);
    expect(matchingPrefixChars(' the meet', INTENDED)).toBe(' the'.length);
    expect(matchingPrefixChars(' a meeting', INTENDED)).toBe(0);
  });

  it('cuts documents at a sentence end and steps word by word', () => {
    const text = 'One two three. Four five six. Seven eight nine ten eleven.';
    expect(documentToWrite(text, 35)).toBe('One two three. Four five six.');
    expect(documentToWrite(text, 1000)).toBe(text);
    expect(nextWordEnd(text, 0)).toBe(3);
    expect(nextWordEnd(text, 3)).toBe(7);
    expect(nextWordEnd(text, text.length)).toBe(text.length);
  });
});

describe('reactions', () => {
  const base = { intended: INTENDED, latencyMs: 60, pauseMs: 2000 };

  it('are the same for the same coordinates', () => {
    for (const i of many(50)) {
      const input = { ...base, at: at(i), suggestion: ' the meeting is' };
      expect(react(P, input)).toEqual(react(P, input));
    }
  });

  it('take an exactly right suggestion most of the time and keep it', () => {
    const reactions = many(1000).map((i) =>
      react(P, { ...base, at: at(i), suggestion: ' the meeting is moved' }),
    );
    const accepted = reactions.filter((r) => r.outcome === 'accepted');
    const through = reactions.filter((r) => r.outcome === 'typed_through');
    expect(accepted.length / 1000).toBeGreaterThan(0.8);
    expect(through.length).toBeGreaterThan(50);
    for (const r of [...accepted, ...through]) {
      expect(r.shown).toBe(true);
      expect(r.consumed).toBe(' the meeting is moved'.length);
    }
    // Some accepts are followed by retyping the last word: less is kept than was accepted.
    const edited = accepted.filter((r) => r.accepted!.kept !== r.accepted!.text);
    expect(edited.length).toBeGreaterThan(20);
    expect(edited[0]!.accepted!.kept).toBe(' the meeting is');
  });

  it('accept the right leading words of a suggestion that goes wrong', () => {
    const reactions = many(500).map((i) =>
      react(P, { ...base, at: at(i), suggestion: ' the meeting is cancelled for good' }),
    );
    const partial = reactions.filter((r) => r.outcome === 'accepted_partial');
    expect(partial.length).toBeGreaterThan(200);
    for (const r of partial) {
      expect(r.acceptedChars).toBe(' the meeting is'.length);
      expect(r.consumed).toBe(' the meeting is'.length);
    }
  });

  it('accept a near miss whole and fix it to what they meant', () => {
    const reactions = many(500).map((i) =>
      react(P, { ...base, at: at(i), suggestion: ' the meeting is moved to Tuesday' }),
    );
    const fixed = reactions.filter(
      (r) => r.outcome === 'accepted' && r.accepted!.text !== r.accepted!.kept,
    );
    expect(fixed.length).toBeGreaterThan(100);
    expect(fixed[0]!.accepted!.kept).toBe(' the meeting is moved to Thursday');
    expect(fixed[0]!.consumed).toBe(' the meeting is moved to Thursday'.length);
  });

  it('dismiss or type past a wrong suggestion, reporting what they typed instead', () => {
    const reactions = many(500).map((i) =>
      react(P, { ...base, at: at(i), suggestion: ' a completely different thing' }),
    );
    expect(reactions.every((r) => r.consumed === 0)).toBe(true);
    const dismissed = reactions.filter((r) => r.outcome === 'dismissed').length;
    expect(dismissed).toBeGreaterThan(60);
    expect(dismissed).toBeLessThan(150);
    expect(reactions[0]!.typedText).toBe(
      INTENDED.slice(0, ' a completely different thing'.length + P.typedInsteadMarginChars),
    );
  });

  it('ignore slow suggestions more often, even right ones', () => {
    const takeRate = (latencyMs: number) =>
      many(1000)
        .map((i) => react(P, { ...base, latencyMs, at: at(i), suggestion: ' the meeting' }))
        .filter((r) => r.outcome !== 'ignored').length / 1000;
    expect(takeRate(1500)).toBeLessThan(takeRate(80) - 0.3);
  });

  it('count a suggestion as shown only past the gate unless it was taken', () => {
    // A short pause: the writer types past before the gate, so nothing is shown.
    const quick = react(P, { ...base, pauseMs: 400, at: at(1), suggestion: ' nope nope' });
    if (quick.outcome === 'ignored') expect(quick.shown).toBe(false);
    for (const i of many(200)) {
      const r = react(P, { ...base, at: at(i), suggestion: ' zzz qqq' });
      expect(r.shown).toBe(r.decisionMs >= P.gateMs);
    }
  });

  it('ask at sentence ends more often than inside sentences, within the pause', () => {
    const rate = (text: string) =>
      many(2000).filter((i) => pausesAt(P, at(i), text).pause).length / 2000;
    expect(rate('Hello there.')).toBeGreaterThan(rate('Hello there') + 0.3);
    const { pauseMs } = pausesAt(P, at(1), 'x');
    expect(pauseMs).toBeGreaterThanOrEqual(P.pause.minMs);
    expect(patienceMs(P, pauseMs)).toBe(pauseMs - P.debounceMs - P.paintMs);
  });
});

describe('reported events', () => {
  it('follow the ingest schema, with text only when training data is on', () => {
    for (const [suggestion, captureText] of [
      [' the meeting is moved', true],
      [' the meeting is cancelled for good', true],
      [' something else entirely here', true],
      [' something else entirely here', false],
    ] as const) {
      for (const i of many(40)) {
        const reaction = react(P, {
          intended: INTENDED,
          latencyMs: 50,
          pauseMs: 3000,
          at: at(i),
          suggestion,
        });
        const events = decisionEvents({
          params: P,
          at: at(i),
          generationId: 'g1',
          reaction,
          captureText,
          clientTs: 1_760_000_000_000,
        });
        expect(events.length).toBe(reaction.shown ? 2 : 0);
        for (const e of events) {
          const parsed = feedbackEventSchema.parse(e);
          if (!captureText && 'typedText' in parsed.payload)
            expect(parsed.payload.typedText).toBeUndefined();
        }
        if (events[1]) expect(events[1].type).toBe(reaction.outcome);
      }
    }
  });

  it("report retention at each window as the writer's clock passes it, once", () => {
    const tracked: TrackedAccept[] = [
      {
        at: at(1),
        generationId: 'g1',
        text: ' the meeting is',
        kept: ' the meeting',
        acceptedAtMs: 1_000,
        reported: new Set(),
      },
    ];
    const due = (nowMs: number) =>
      dueRetentionEvents({ tracked, nowMs, captureText: true, clientTs: 1_760_000_000_000 }).map(
        (e) => feedbackEventSchema.parse(e),
      );
    const windowOf = (e: ReturnType<typeof due>[number]) =>
      e.type === 'retention' ? e.payload.window : null;
    expect(due(20_000)).toEqual([]);
    const first = due(150_000);
    expect(first.map(windowOf)).toEqual(['30s', '2m']);
    expect(due(150_000)).toEqual([]);
    const rest = due(700_000);
    expect(rest.map(windowOf)).toEqual(['5m', '10m']);
    expect(tracked).toHaveLength(0); // every window reported: no longer tracked
    const last = rest[1]!;
    if (last.type !== 'retention') throw new Error('retention expected');
    expect(last.payload.text).toBe(' the meeting');
    expect(last.payload.retainedChars).toBe(' the meeting'.length);
    expect(new Set([...first, ...rest].map((e) => e.clientEventId)).size).toBe(4);
    expect(eventId(at(1), 'shown')).toBe(eventId(at(1), 'shown'));
  });
});

describe('experienced latency', () => {
  it('makes every answer within instantMs the same to the writer, whatever the machine did', () => {
    expect(experiencedLatencyMs(P, 12)).toBe(0);
    expect(experiencedLatencyMs(P, P.instantMs)).toBe(0);
    expect(experiencedLatencyMs(P, P.instantMs + 1)).toBe(P.instantMs + 1);
    // So a reaction to a fast answer is the same at 10 ms and at 240 ms.
    for (const step of many(200)) {
      const input = { at: at(step), suggestion: ' the meeting', intended: INTENDED, pauseMs: 900 };
      expect(react(P, { ...input, latencyMs: experiencedLatencyMs(P, 10) })).toEqual(
        react(P, { ...input, latencyMs: experiencedLatencyMs(P, 240) }),
      );
    }
  });

  it('waits at least instantMs before a keystroke aborts, the patience when longer', () => {
    expect(abortAfterMs(P, 100)).toBe(P.instantMs);
    expect(abortAfterMs(P, 2000)).toBe(2000);
  });
});
