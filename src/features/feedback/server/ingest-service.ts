import type { Db } from '~/server/db';
import { env } from '~/server/env';
import { awaitPendingWrites } from '~/server/pending-writes';
import { querySql } from '~/server/sql';
import {
  ingestInputSchema,
  type FeedbackEvent,
  type IngestInput,
  type IngestResult,
  type RejectReason,
} from '../events';
import { redactEventTexts } from './event-text';
import { configuredSinkNames, type OutboxSinkName } from './outbox';

/** Client clocks further than this from ours are clamped (the value sent is kept in the payload). */
export const MAX_CLOCK_SKEW_MS = 24 * 3_600_000;

export interface IngestOptions {
  /** The server clock; tests pin it. */
  now?: () => Date;
  /** Outbox sinks to copy to (default: the configured ones). */
  sinks?: readonly OutboxSinkName[];
}

// One statement checks ownership, stores the events and their outbox copies: a statement is its
// own transaction, so all of it lands or none, and it is one round trip (ingest is the hot path).
// - Only events whose generation belongs to the caller's unit are inserted; the others come back
//   with why, in the same result.
// - Rows are inserted in clientEventId order and copies in (sink, clientEventId) order: two
//   batches that overlap in any order wait for each other instead of deadlocking.
// - Users' text (see event-text.ts) stays in the system of record: the copies leave it out.
// - ON CONFLICT DO NOTHING makes retries idempotent; RETURNING tells which events are new, and
//   only new events get outbox rows, one per configured sink.
// Timestamps are bound as UTC ISO strings: the columns are `timestamp(3)` without zone, holding
// UTC as Prisma does, and a cast to `timestamp` drops the "Z" instead of applying the session zone.
export const INSERT_EVENTS_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
    AS t("clientEventId", "generationId", "type", "payload", "clientTs")
),
checked AS (
  SELECT i.*, g."unitId" AS owner
  FROM input i LEFT JOIN "generation" g ON g."id" = i."generationId"
),
ins AS (
  INSERT INTO "feedback_event" ("id", "clientEventId", "generationId", "type", "payload", "clientTs", "serverTs")
  SELECT gen_random_uuid()::text, c."clientEventId", c."generationId", c."type"::"FeedbackType",
         c."payload"::jsonb, c."clientTs"::timestamp(3), $6::timestamp(3)
  FROM checked c WHERE c.owner = $8::text
  ORDER BY c."clientEventId"
  ON CONFLICT DO NOTHING
  RETURNING "clientEventId", "generationId", "type", "payload", "clientTs", "serverTs"
),
copies AS (
  INSERT INTO "outbox" ("sink", "kind", "aggregateId", "payload", "createdAt", "availableAt")
  SELECT s.sink, 'feedback', ins."clientEventId",
         jsonb_build_object(
           'clientEventId', ins."clientEventId", 'generationId', ins."generationId",
           'unitId', $8::text, 'type', ins."type", 'payload', ins."payload" - 'text' - 'typedText',
           'clientTs', to_char(ins."clientTs", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'serverTs', to_char(ins."serverTs", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
         $6::timestamp(3), $6::timestamp(3)
  FROM ins CROSS JOIN unnest($7::text[]) AS s(sink)
  ORDER BY s.sink, ins."clientEventId"
  ON CONFLICT DO NOTHING
)
SELECT "clientEventId", NULL AS "reason" FROM ins
UNION ALL
SELECT "clientEventId",
       CASE WHEN owner IS NULL THEN 'generation_not_found' ELSE 'generation_of_other_unit' END
FROM checked WHERE owner IS DISTINCT FROM $8::text`;

/** Validates an untyped body (HTTP routes) and ingests it; zod errors become field-level 400s. */
export function ingestFeedbackBody(db: Db, body: unknown, options?: IngestOptions) {
  return ingestFeedback(db, ingestInputSchema.parse(body), options);
}

/**
 * Stores a batch of feedback events idempotently, with their PostHog/OTel copies in the outbox.
 * Events for unknown generations or for another unit's generations are not stored and are listed
 * in `rejected`; the rest of the batch is stored all the same (the client drops rejected events
 * for good rather than resending them).
 */
export async function ingestFeedback(
  db: Db,
  input: IngestInput,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const serverTs = (options.now ?? (() => new Date()))();

  // The same id twice in one batch is stored once; the second counts as a duplicate.
  const unique = new Map<string, FeedbackEvent>();
  for (const event of input.events) unique.set(event.clientEventId, event);
  const inBatchDuplicates = input.events.length - unique.size;

  // A suggestion answered a moment ago may still be in the generation writer's queue.
  await awaitPendingWrites(new Set([...unique.values()].map((e) => e.generationId)));

  const rows = (await redactEventTexts(db, [...unique.values()]))
    .map((event) => toRow(event, serverTs))
    .sort((a, b) => (a.clientEventId < b.clientEventId ? -1 : 1));
  const result = await querySql<{ clientEventId: string; reason: RejectReason | null }>(
    db,
    INSERT_EVENTS_SQL,
    [
      rows.map((r) => r.clientEventId),
      rows.map((r) => r.generationId),
      rows.map((r) => r.type),
      rows.map((r) => r.payload),
      rows.map((r) => r.clientTs),
      serverTs.toISOString(),
      options.sinks ?? configuredSinkNames(env()),
      input.unitId,
    ],
  );
  const rejected: IngestResult['rejected'] = [];
  let accepted = 0;
  for (const row of result) {
    if (row.reason) rejected.push({ clientEventId: row.clientEventId, reason: row.reason });
    else accepted++;
  }
  return {
    accepted,
    duplicates: inBatchDuplicates + rows.length - rejected.length - accepted,
    rejected,
  };
}

/** The columns of an event. */
function toRow(event: FeedbackEvent, serverTs: Date) {
  const clamped = clampClientTs(event.clientTs, serverTs.getTime());
  const payload: Record<string, unknown> = { ...event.payload };
  if (clamped !== event.clientTs) payload.clientTsSent = event.clientTs;
  return {
    clientEventId: event.clientEventId,
    generationId: event.generationId,
    type: event.type,
    payload: JSON.stringify(payload),
    clientTs: new Date(clamped).toISOString(),
  };
}

/** Keeps a client timestamp within MAX_CLOCK_SKEW_MS of the server's clock. */
export function clampClientTs(clientTs: number, serverMs: number): number {
  return Math.min(serverMs + MAX_CLOCK_SKEW_MS, Math.max(serverMs - MAX_CLOCK_SKEW_MS, clientTs));
}
