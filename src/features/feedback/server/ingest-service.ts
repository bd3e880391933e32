import type { Db } from '~/server/db';
import { DomainError } from '~/server/errors';
import {
  ingestInputSchema,
  type FeedbackEvent,
  type IngestInput,
  type IngestResult,
  type RejectReason,
} from '../events';
import { OUTBOX_SINKS } from './outbox';

/** Client clocks further than this from ours are clamped (the value sent is kept in the payload). */
export const MAX_CLOCK_SKEW_MS = 24 * 3_600_000;

export interface IngestOptions {
  /** The server clock; tests pin it. */
  now?: () => Date;
}

// One statement stores the events and their outbox copies: a statement is its own transaction,
// so either all of it lands or none, and it is a single round trip (ingest is the hot path).
// ON CONFLICT DO NOTHING makes retries idempotent; RETURNING tells which events are new, and only
// new events get outbox rows, so concurrent copies of one batch produce one row each.
// Timestamps are bound as UTC ISO strings: the columns are `timestamp(3)` without zone, holding
// UTC as Prisma does, and a cast to `timestamp` drops the "Z" instead of applying the session zone.
export const INSERT_EVENTS_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
    AS t("clientEventId", "generationId", "type", "payload", "clientTs")
),
ins AS (
  INSERT INTO "feedback_event" ("id", "clientEventId", "generationId", "type", "payload", "clientTs", "serverTs")
  SELECT gen_random_uuid()::text, i."clientEventId", i."generationId", i."type"::"FeedbackType",
         i."payload"::jsonb, i."clientTs"::timestamp(3), $6::timestamp(3)
  FROM input i
  ON CONFLICT DO NOTHING
  RETURNING "clientEventId", "generationId", "type", "payload", "clientTs", "serverTs"
),
sinks AS (SELECT unnest($7::text[]) AS sink),
feedback_copies AS (
  INSERT INTO "outbox" ("sink", "kind", "aggregateId", "payload", "createdAt", "availableAt")
  SELECT s.sink, 'feedback', ins."clientEventId",
         jsonb_build_object(
           'clientEventId', ins."clientEventId", 'generationId', ins."generationId",
           'unitId', $8::text, 'type', ins."type", 'payload', ins."payload",
           'clientTs', to_char(ins."clientTs", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'serverTs', to_char(ins."serverTs", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
         $6::timestamp(3), $6::timestamp(3)
  FROM ins CROSS JOIN sinks s
  ON CONFLICT DO NOTHING
),
generation_copies AS (
  INSERT INTO "outbox" ("sink", "kind", "aggregateId", "payload", "createdAt", "availableAt")
  SELECT s.sink, 'generation', g.id, jsonb_build_object('generationId', g.id),
         $6::timestamp(3), $6::timestamp(3)
  FROM (SELECT DISTINCT "generationId" AS id FROM ins) g CROSS JOIN sinks s
  ON CONFLICT DO NOTHING
)
SELECT "clientEventId" FROM ins`;

/** Validates an untyped body (HTTP routes) and ingests it; zod errors become field-level 400s. */
export function ingestFeedbackBody(db: Db, body: unknown, options?: IngestOptions) {
  return ingestFeedback(db, ingestInputSchema.parse(body), options);
}

/**
 * Stores a batch of feedback events idempotently, with their PostHog/OTel copies in the outbox.
 * Events for unknown generations or for another unit's generations are reported, not stored; a
 * batch with nothing acceptable is refused as a whole so the client sees why.
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

  const generationIds = [...new Set([...unique.values()].map((e) => e.generationId))];
  const generations = await db.generation.findMany({
    where: { id: { in: generationIds } },
    select: { id: true, unitId: true },
  });
  const unitOf = new Map(generations.map((g) => [g.id, g.unitId]));

  const rejected: IngestResult['rejected'] = [];
  const acceptable: FeedbackEvent[] = [];
  for (const event of unique.values()) {
    const owner = unitOf.get(event.generationId);
    const reason: RejectReason | null =
      owner === undefined
        ? 'generation_not_found'
        : owner !== input.unitId
          ? 'generation_of_other_unit'
          : null;
    if (reason) rejected.push({ clientEventId: event.clientEventId, reason });
    else acceptable.push(event);
  }
  if (acceptable.length === 0) throw nothingAcceptable(rejected);

  const rows = acceptable.map((event) => toRow(event, serverTs));
  const inserted = await db.$queryRawUnsafe<{ clientEventId: string }[]>(
    INSERT_EVENTS_SQL,
    rows.map((r) => r.clientEventId),
    rows.map((r) => r.generationId),
    rows.map((r) => r.type),
    rows.map((r) => r.payload),
    rows.map((r) => r.clientTs),
    serverTs.toISOString(),
    [...OUTBOX_SINKS],
    input.unitId,
  );
  return {
    accepted: inserted.length,
    duplicates: inBatchDuplicates + acceptable.length - inserted.length,
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

function nothingAcceptable(rejected: IngestResult['rejected']): DomainError {
  const byReason = new Map<string, string[]>();
  for (const r of rejected)
    byReason.set(r.reason, [...(byReason.get(r.reason) ?? []), r.clientEventId]);
  const reasons = [...byReason.entries()]
    .map(
      ([reason, ids]) =>
        `${reason} (${ids.length}: ${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''})`,
    )
    .join('; ');
  return new DomainError(
    'BAD_REQUEST',
    `None of the ${rejected.length} events could be stored: ${reasons}`,
    { rejected },
  );
}
