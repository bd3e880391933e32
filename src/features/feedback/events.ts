import { z } from 'zod';

/**
 * Wire schemas of implicit feedback, shared by the browser (which reports) and the server (which
 * ingests). No I/O here, so a client component can import it. See DESIGN.md "Feedback vocabulary".
 */

export const FEEDBACK_TYPES = [
  'shown',
  'accepted',
  'accepted_partial',
  'dismissed',
  'ignored',
  'typed_through',
  'retention',
] as const;
export type FeedbackType = (typeof FEEDBACK_TYPES)[number];

/** A suggestion counts as shown only after it stayed visible this long (configurable, logged). */
export const DEFAULT_VISIBILITY_GATE_MS = 750;
/** Retention windows after an accept (the de facto standard set) plus the submit of the text. */
export const RETENTION_WINDOWS = ['30s', '2m', '5m', '10m', 'submit'] as const;
export type RetentionWindow = (typeof RETENTION_WINDOWS)[number];
export const RETENTION_WINDOW_MS: Record<Exclude<RetentionWindow, 'submit'>, number> = {
  '30s': 30_000,
  '2m': 120_000,
  '5m': 300_000,
  '10m': 600_000,
};

export const MAX_EVENTS_PER_BATCH = 500;
/**
 * What the user wrote at a suggestion's place, sent only for features whose `trainingData` is on
 * (the server drops it otherwise and redacts it by the feature's policy before storing it).
 */
export const MAX_REPORTED_TEXT_CHARS = 2_000;
const userText = z.string().max(MAX_REPORTED_TEXT_CHARS).optional();
export const MAX_UNIT_ID_LENGTH = 128;

const HOUR_MS = 3_600_000;
// Durations are bounded so that one broken client cannot poison latency percentiles.
const durationMs = z
  .number()
  .finite()
  .min(0)
  .max(24 * HOUR_MS);
const chars = z.number().int().min(0).max(1_000_000);
// PostgreSQL text cannot hold NUL; refusing it here keeps such input a 400 rather than a 500.
const id = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((v) => !v.includes('\u0000'), 'must not contain NUL characters');

/** Epoch milliseconds (Date.now()) or an ISO-8601 string; normalized to epoch ms. */
const clientTs = z.union([
  z.number().int().min(0),
  z.iso.datetime({ offset: true }).transform((v) => Date.parse(v)),
]);

function event<T extends FeedbackType, P extends z.ZodRawShape>(type: T, payload: P) {
  return z.object({
    type: z.literal(type),
    /** Made by the client (crypto.randomUUID()); the same id sent twice is stored once. */
    clientEventId: z.uuid(),
    /** The id the suggestion came back with. */
    generationId: id(64),
    /** Client clock; the server clamps implausible values and keeps what was sent. */
    clientTs,
    /** Type-specific measurements (unknown keys are dropped). */
    payload: z.object(payload),
  });
}

/** What every decision about a shown suggestion reports. */
const decision = {
  /** Shown → decision: the person's time. */
  shownToDecisionMs: durationMs,
  suggestedChars: chars.optional(),
  acceptedChars: chars.optional(),
  typedChars: chars.optional(),
};

/** The suggestion was visible for at least the gate. */
export const shownEvent = event('shown', {
  /** The gate in force when this was counted as shown. */
  gateMs: z.number().int().min(0).max(60_000),
  visibleMs: durationMs.optional(),
  /** Response arrived → ghost text painted (client-side latency). */
  responseToShownMs: durationMs,
});

/** Accepted whole (Tab). */
export const acceptedEvent = event('accepted', decision);

/** Accepted word by word; `acceptedChars` of `suggestedChars` were taken. */
export const acceptedPartialEvent = event('accepted_partial', {
  ...decision,
  acceptedChars: chars,
});

/** Explicitly dismissed (Esc, click away). */
export const dismissedEvent = event('dismissed', {
  ...decision,
  reason: z.enum(['escape', 'click_away', 'other']).optional(),
  /** What the user typed at the suggestion's place instead, up to its length plus a margin. */
  typedText: userText,
});

/** Typed past or superseded by a newer suggestion. */
export const ignoredEvent = event('ignored', {
  ...decision,
  reason: z.enum(['typed_past', 'superseded', 'blur', 'other']).optional(),
  typedText: userText,
});

/** The user typed the suggested text by hand: an implicit accept. */
export const typedThroughEvent = event('typed_through', { ...decision, typedChars: chars });

/** After an accept: how much of the accepted text is still there at a retention window. */
export const retentionEvent = event('retention', {
  window: z.enum(RETENTION_WINDOWS),
  /** Time since the accept when this was measured. */
  elapsedMs: durationMs.optional(),
  /** Normalized edit distance (0..1) between the accepted text and what remains of it. */
  editDistance: z.number().min(0).max(1),
  retainedChars: chars,
  acceptedChars: chars,
  /** What remains of the accepted text (the retained span's text) at this window. */
  text: userText,
});

export const feedbackEventSchema = z.discriminatedUnion('type', [
  shownEvent,
  acceptedEvent,
  acceptedPartialEvent,
  dismissedEvent,
  ignoredEvent,
  typedThroughEvent,
  retentionEvent,
]);
/** An event after parsing (clientTs in epoch ms). */
export type FeedbackEvent = z.infer<typeof feedbackEventSchema>;
/** An event as the browser sends it. */
export type FeedbackEventInput = z.input<typeof feedbackEventSchema>;

/** Body of `feedback.ingest` (tRPC), `POST /api/v1/feedback` and the beacon. */
export const ingestInputSchema = z.object({
  /** The stable (possibly anonymous) id the suggestions were requested with. */
  unitId: id(MAX_UNIT_ID_LENGTH),
  events: z.array(feedbackEventSchema).min(1).max(MAX_EVENTS_PER_BATCH),
});
export type IngestInput = z.infer<typeof ingestInputSchema>;
export type IngestInputWire = z.input<typeof ingestInputSchema>;

export const REJECT_REASONS = ['generation_not_found', 'generation_of_other_unit'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface IngestResult {
  /** Events stored now. */
  accepted: number;
  /** Events already stored (a retried or repeated batch). */
  duplicates: number;
  /** Events refused and not stored, with why. */
  rejected: { clientEventId: string; reason: RejectReason }[];
}

/** Where the browser sends feedback: the tRPC mutation; a beacon POSTs `{ json: IngestInput }`. */
export const FEEDBACK_BEACON_PATH = '/api/trpc/feedback.ingest';
