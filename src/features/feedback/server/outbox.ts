import { createHash } from 'node:crypto';
import type { Db } from '~/server/db';
import type { ServerEnv } from '~/server/env';

/**
 * The outbox holds the copies of generations and feedback that PostHog and OpenTelemetry
 * receive. Rows are written by the statement that stores the original (so a copy exists iff
 * the original does), delivered later by src/composition/jobs/outbox-dispatcher.ts, and deleted
 * once delivered and older than the retention period.
 */
export const OUTBOX_SINKS = ['posthog', 'otel'] as const;
export type OutboxSinkName = (typeof OUTBOX_SINKS)[number];
export type OutboxKind = 'generation' | 'feedback';

/** What ingest stores in `payload` for a feedback copy (a snapshot; the dispatcher joins nothing). */
export interface FeedbackCopy {
  clientEventId: string;
  generationId: string;
  unitId: string;
  type: string;
  payload: Record<string, unknown>;
  clientTs: string;
  serverTs: string;
}

export interface OutboxRow {
  id: bigint;
  sink: string;
  kind: OutboxKind;
  aggregateId: string;
  payload: unknown;
  attempts: number;
}

/**
 * The sinks the environment configures: copies are made only for these (a copy nobody will
 * deliver would only grow the table and slow ingest).
 */
export function configuredSinkNames(
  env: Pick<ServerEnv, 'POSTHOG_API_KEY' | 'OTEL_EXPORTER_OTLP_ENDPOINT'>,
): OutboxSinkName[] {
  const names: OutboxSinkName[] = [];
  if (env.POSTHOG_API_KEY) names.push('posthog');
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) names.push('otel');
  return names;
}

/**
 * A stable UUID per copy (name-based, version-5 layout), so a copy sent twice carries the same id
 * and PostHog keeps one event.
 */
export function outboxEventUuid(row: { sink: string; kind: string; aggregateId: string }): string {
  const hex = createHash('sha1')
    .update(`flywheel-outbox/${row.sink}/${row.kind}/${row.aggregateId}`)
    .digest('hex');
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

export interface Claim {
  rows: OutboxRow[];
  /** The `availableAt` the claim set: the lease, and the token that proves the claim is still ours. */
  lease: Date;
}

// One statement, so the row locks live only for its duration; SKIP LOCKED lets several
// dispatchers (app instances) claim disjoint rows. The claim is the bumped availableAt: nobody
// else sees the row until the lease runs out (a dispatcher that died mid-delivery loses it then).
const CLAIM_SQL = `
UPDATE "outbox" o SET "availableAt" = $3::timestamp(3), "attempts" = o."attempts" + 1
FROM (
  SELECT "id" FROM "outbox"
  WHERE "sink" = $1 AND "deliveredAt" IS NULL AND "availableAt" <= $4::timestamp(3)
  ORDER BY "availableAt", "id"
  LIMIT $2
  FOR UPDATE SKIP LOCKED
) c
WHERE o."id" = c."id"
RETURNING o."id"::text AS "id", o."sink", o."kind", o."aggregateId", o."payload", o."attempts"`;

export async function claimOutboxRows(
  db: Db,
  sink: OutboxSinkName,
  options: { limit: number; leaseMs: number; now: Date },
): Promise<Claim> {
  const lease = new Date(options.now.getTime() + options.leaseMs);
  const raw = await db.$queryRawUnsafe<(Omit<OutboxRow, 'id'> & { id: string })[]>(
    CLAIM_SQL,
    sink,
    options.limit,
    lease.toISOString(),
    options.now.toISOString(),
  );
  const rows = raw.map((r) => ({ ...r, id: BigInt(r.id) })).sort((a, b) => (a.id < b.id ? -1 : 1));
  return { rows, lease };
}

/**
 * Marks claimed rows delivered, unless the lease ran out and another dispatcher took them.
 * `note` records why a row was settled without being sent (e.g. its generation was deleted).
 */
export async function markOutboxDelivered(
  db: Db,
  claim: Claim,
  ids: bigint[],
  now: Date,
  note: string | null = null,
) {
  if (ids.length === 0) return 0;
  return db.$executeRawUnsafe(
    `UPDATE "outbox" SET "deliveredAt" = $2::timestamp(3), "lastError" = $4
     WHERE "id" = ANY($1::bigint[]) AND "availableAt" = $3::timestamp(3) AND "deliveredAt" IS NULL`,
    ids.map(String),
    now.toISOString(),
    claim.lease.toISOString(),
    note,
  );
}

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** Releases claimed rows for a later retry, keeping why delivery failed. */
export async function markOutboxFailed(
  db: Db,
  claim: Claim,
  ids: bigint[],
  error: string,
  options: { now: Date; backoff: Backoff },
) {
  if (ids.length === 0) return 0;
  return db.$executeRawUnsafe(
    `UPDATE "outbox"
     SET "lastError" = left($2, 2000),
         "availableAt" = $3::timestamp(3)
           + least($5::float8, $4::float8 * power(2, greatest("attempts", 1) - 1)) * interval '1 millisecond'
     WHERE "id" = ANY($1::bigint[]) AND "availableAt" = $6::timestamp(3) AND "deliveredAt" IS NULL`,
    ids.map(String),
    error,
    options.now.toISOString(),
    options.backoff.baseMs,
    options.backoff.maxMs,
    claim.lease.toISOString(),
  );
}

/**
 * Deletes delivered rows older than `olderThan`, at most `chunk` per statement so no statement
 * holds many locks or a long transaction. Returns how many went.
 */
export async function pruneDeliveredOutbox(
  db: Db,
  olderThan: Date,
  { chunk = 5_000, maxChunks = 20 } = {},
): Promise<number> {
  let total = 0;
  for (let i = 0; i < maxChunks; i++) {
    const deleted = await db.$executeRawUnsafe(
      `DELETE FROM "outbox" WHERE "id" IN (
         SELECT "id" FROM "outbox"
         WHERE "deliveredAt" IS NOT NULL AND "deliveredAt" < $1::timestamp(3)
         LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      olderThan.toISOString(),
      chunk,
    );
    total += deleted;
    if (deleted < chunk) break;
  }
  return total;
}
