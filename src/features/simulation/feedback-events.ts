/**
 * A simulated writer's reactions as the browser reports them: the same wire schema
 * (feedback/events.ts) and the same rules as SuggestionLifecycle (shown only past the gate or when
 * taken; the text typed instead and the retained text only where the feature's `trainingData` is
 * on; retention at each window the session reached, then on submit). Event ids are derived from
 * the writer's coordinates, so a resent batch is a duplicate, never a second event.
 */
import { createHash } from 'node:crypto';
import {
  MAX_REPORTED_TEXT_CHARS,
  RETENTION_WINDOW_MS,
  type FeedbackEventInput,
  type RetentionWindow,
} from '~/features/feedback/events';
import { normalizedEditDistance, retainedChars } from '~/lib/edit-distance';
import type { BehaviourParams, Reaction } from './behaviour';
import type { Coordinates } from './random';

/** A UUID (version 4 layout) made from a hash, so ids repeat exactly across runs of one seed. */
export function eventId(at: Coordinates, what: string): string {
  const h = createHash('sha256')
    .update(`event\u0000${at.seed}\u0000${at.writerId}\u0000${at.step}\u0000${what}`)
    .digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The events of one decision (none when it was dropped before the gate). */
export function decisionEvents(input: {
  params: BehaviourParams;
  at: Coordinates;
  generationId: string;
  reaction: Reaction;
  captureText: boolean;
  clientTs: number;
}): FeedbackEventInput[] {
  const { params, at, generationId, reaction: r, captureText, clientTs } = input;
  if (!r.shown) return [];
  const base = { generationId, clientTs };
  const shown: FeedbackEventInput = {
    ...base,
    type: 'shown',
    clientEventId: eventId(at, 'shown'),
    payload: {
      gateMs: params.gateMs,
      visibleMs: Math.round(Math.min(r.decisionMs, params.gateMs)),
      responseToShownMs: params.paintMs,
    },
  };
  const decision = {
    shownToDecisionMs: Math.round(r.decisionMs),
    suggestedChars: r.suggestedChars,
    acceptedChars: r.acceptedChars,
    typedChars: r.typedChars,
  };
  const clientEventId = eventId(at, r.outcome);
  const typedText = captureText ? r.typedText : undefined;
  let outcome: FeedbackEventInput;
  switch (r.outcome) {
    case 'accepted':
      outcome = { ...base, clientEventId, type: 'accepted', payload: decision };
      break;
    case 'accepted_partial':
      outcome = {
        ...base,
        clientEventId,
        type: 'accepted_partial',
        payload: { ...decision, acceptedChars: r.acceptedChars ?? 0 },
      };
      break;
    case 'typed_through':
      outcome = {
        ...base,
        clientEventId,
        type: 'typed_through',
        payload: { ...decision, typedChars: r.typedChars ?? r.suggestedChars },
      };
      break;
    case 'dismissed':
      outcome = {
        ...base,
        clientEventId,
        type: 'dismissed',
        payload: { ...decision, reason: 'escape', typedText },
      };
      break;
    case 'ignored':
      outcome = {
        ...base,
        clientEventId,
        type: 'ignored',
        payload: { ...decision, reason: 'typed_past', typedText },
      };
      break;
  }
  return [shown, outcome];
}

/** An accepted span still tracked by the writer's page. */
export interface TrackedAccept {
  at: Coordinates;
  generationId: string;
  /** The text taken at the accept, and what is left of it once the writer's edits are done. */
  text: string;
  kept: string;
  /** The writer's clock (virtual ms since the writer began) at the accept. */
  acceptedAtMs: number;
  /** Windows already reported. */
  reported: Set<RetentionWindow>;
}

const TIMED_WINDOWS = Object.entries(RETENTION_WINDOW_MS) as [RetentionWindow, number][];

/**
 * Retention of each accepted span at the windows its page stayed open for, as the page's timers
 * report them: the writer's page stays open across documents, so a window fires once the writer's
 * clock has passed it. The writer's edits to a span happen right after the accept, so every
 * window sees the same text. Spans whose last window has fired are removed from `tracked`.
 */
export function dueRetentionEvents(input: {
  tracked: TrackedAccept[];
  nowMs: number;
  captureText: boolean;
  clientTs: number;
}): FeedbackEventInput[] {
  const events: FeedbackEventInput[] = [];
  for (const t of input.tracked) {
    for (const [window, ms] of TIMED_WINDOWS) {
      if (t.reported.has(window) || t.acceptedAtMs + ms > input.nowMs) continue;
      t.reported.add(window);
      events.push({
        type: 'retention',
        clientEventId: eventId(t.at, `retention:${window}`),
        generationId: t.generationId,
        clientTs: input.clientTs,
        payload: {
          window,
          elapsedMs: ms,
          acceptedChars: t.text.length,
          retainedChars: retainedChars(t.text, t.kept),
          editDistance: Number(normalizedEditDistance(t.text, t.kept).toFixed(4)),
          ...(input.captureText ? { text: t.kept.slice(0, MAX_REPORTED_TEXT_CHARS) } : {}),
        },
      });
    }
  }
  const done = input.tracked.filter((t) => t.reported.size === TIMED_WINDOWS.length);
  for (const t of done) input.tracked.splice(input.tracked.indexOf(t), 1);
  return events;
}
