/**
 * Claims a batch of rollup_queue rows and reads, in the same statement, the facts (metrics.ts
 * `GenerationFacts`) of every generation they touch twice: as the rollups held them before the
 * claim and as they hold them after it. A generation or event still in rollup_queue is not folded
 * yet and does not count; one in the claimed batch counts only after. The fold subtracts the first
 * reading and adds the second.
 *
 * One statement, so one snapshot: its DELETE of the claimed rows (oldest first) and its reads of
 * rollup_queue see the same queue, so the two readings differ by exactly what was claimed. A row
 * inserted meanwhile has its queue row inserted in the same transaction, so it counts in neither.
 * The two readings come from one pass over each generation's events (aggregates with FILTERs),
 * and the claimed ids never travel to the app and back.
 *
 * LATERAL per generation keeps this on the (generationId, …) indexes of feedback_event and
 * rollup_queue: its cost follows the generations touched, not the size of the tables.
 */
import type { Prisma } from '~/generated/prisma/client';
import type { GenerationFacts } from '~/features/feedback/metrics';

/** The generation's own columns: the rollup key and what the events do not say. */
export interface GenerationKey {
  id: string;
  featureId: string;
  modelVersionId: string;
  armId: string;
  tier: string;
  /** ISO hour (UTC, no zone) of the generation: late feedback lands in its generation's hour. */
  hour: string;
  latencyMs: number;
  error: string | null;
}

/** What the events say, as read from SQL (null where no event of that kind counts). */
interface EventFacts {
  shown: boolean | null;
  clientMs: number | null;
  accepted: boolean | null;
  acceptedPartial: boolean | null;
  typedThrough: boolean | null;
  dismissed: boolean | null;
  ignored: boolean | null;
  personMs: number | null;
  acceptedChars: number | null;
  retained30s: number | null;
  retained2m: number | null;
  retained10m: number | null;
  editDistance2m: number | null;
}

export interface FactsReading {
  generation: GenerationKey;
  /** Null when the generation did not count before the claim (it was itself still queued). */
  before: GenerationFacts | null;
  after: GenerationFacts;
}

const num = (key: string) => `(e.payload->>'${key}')::float8`;
const DECISIONS = `('accepted', 'accepted_partial', 'typed_through', 'dismissed', 'ignored')`;
const retention = (window: string) => `e.type = 'retention' AND e.payload->>'window' = '${window}'`;

/** Each event fact once: [column, aggregate, argument, filter]. */
const AGGREGATES: [keyof EventFacts, string, string, string][] = [
  ['shown', 'bool_or', `e.type = 'shown'`, 'true'],
  ['clientMs', 'min', num('responseToShownMs'), `e.type = 'shown'`],
  ['accepted', 'bool_or', `e.type = 'accepted'`, 'true'],
  ['acceptedPartial', 'bool_or', `e.type = 'accepted_partial'`, 'true'],
  ['typedThrough', 'bool_or', `e.type = 'typed_through'`, 'true'],
  ['dismissed', 'bool_or', `e.type = 'dismissed'`, 'true'],
  ['ignored', 'bool_or', `e.type = 'ignored'`, 'true'],
  ['personMs', 'min', num('shownToDecisionMs'), `e.type IN ${DECISIONS}`],
  [
    'acceptedChars',
    'max',
    `coalesce(${num('acceptedChars')}, ${num('suggestedChars')})`,
    `e.type IN ('accepted', 'accepted_partial')`,
  ],
  ['retained30s', 'max', num('retainedChars'), retention('30s')],
  ['retained2m', 'max', num('retainedChars'), retention('2m')],
  ['retained10m', 'max', num('retainedChars'), retention('10m')],
  ['editDistance2m', 'max', num('editDistance'), retention('2m')],
];

// The events read below count before the claim unless claimed now, and all of them after it.
const SIDES = { b: 'NOT e.claimed', a: 'true' };

const CLAIM_AND_READ_SQL = `
WITH claimed AS (
  DELETE FROM rollup_queue
  WHERE id = ANY (ARRAY(SELECT id FROM rollup_queue ORDER BY id LIMIT $1))
  RETURNING id, "generationId", "eventId"
), touched AS (
  SELECT "generationId" AS id, bool_or("eventId" IS NULL) AS "generationClaimed"
  FROM claimed GROUP BY 1
)
SELECT n.claimed, r.* FROM (SELECT count(*)::int AS claimed FROM claimed) n
LEFT JOIN LATERAL (
  SELECT g.id, c."countedBefore",
    g."featureId", coalesce(g."modelVersionId", '') AS "modelVersionId",
    coalesce(g."armId", '') AS "armId", g.tier::text AS tier,
    to_char(date_trunc('hour', g."createdAt"), 'YYYY-MM-DD"T"HH24:00:00') AS hour,
    g."latencyMs", g.error, f.*
  FROM touched t
  JOIN generation g ON g.id = t.id
  -- Counted before unless its own queue row is claimed now or still waiting.
  CROSS JOIN LATERAL (
    SELECT NOT t."generationClaimed" AND NOT EXISTS (
      SELECT 1 FROM rollup_queue q WHERE q."generationId" = g.id AND q."eventId" IS NULL
    ) AS "countedBefore" OFFSET 0
  ) c
  CROSS JOIN LATERAL (
    SELECT ${Object.entries(SIDES)
      .flatMap(([side, condition]) =>
        AGGREGATES.map(
          ([name, agg, arg, filter]) =>
            `${agg}(${arg}) FILTER (WHERE ${filter} AND ${condition}) AS "${side}_${name}"`,
        ),
      )
      .join(',\n      ')}
    FROM (
      -- (Generation rows have no eventId: a NULL in the list would make every miss NULL, not false.)
      SELECT e.id, e.type, e.payload,
        e.id IN (SELECT "eventId" FROM claimed WHERE "eventId" IS NOT NULL) AS claimed
      FROM feedback_event e WHERE e."generationId" = g.id
      OFFSET 0 -- evaluate the claimed test once per event, not once per aggregate
    ) e
    -- A claimed event counts after the claim only; one still queued on neither side.
    WHERE e.claimed OR NOT EXISTS (
      SELECT 1 FROM rollup_queue q WHERE q."generationId" = g.id AND q."eventId" = e.id)
  ) f
  WHERE c."countedBefore" OR t."generationClaimed"
) r ON true`;

type Row = { claimed: number; countedBefore: boolean | null } & Partial<GenerationKey> &
  Record<`${keyof typeof SIDES}_${keyof EventFacts}`, number | boolean | null>;

function factsOf(key: GenerationKey, row: Row, side: keyof typeof SIDES): GenerationFacts {
  const v = <K extends keyof EventFacts>(name: K) => row[`${side}_${name}`] as EventFacts[K];
  return {
    latencyMs: key.latencyMs,
    error: key.error,
    shown: v('shown') === true,
    clientMs: v('clientMs'),
    outcomes: {
      accepted: v('accepted') === true,
      accepted_partial: v('acceptedPartial') === true,
      typed_through: v('typedThrough') === true,
      dismissed: v('dismissed') === true,
      ignored: v('ignored') === true,
    },
    personMs: v('personMs'),
    acceptedChars: v('acceptedChars'),
    retained30s: v('retained30s'),
    retained2m: v('retained2m'),
    retained10m: v('retained10m'),
    editDistance2m: v('editDistance2m'),
  };
}

const unchanged = (row: Row) => AGGREGATES.every(([name]) => row[`b_${name}`] === row[`a_${name}`]);

/**
 * Claims up to `batchSize` queue rows (oldest first; run under the fold's lock) and returns how
 * many, with the readings of the generations whose facts the claim changed.
 */
export async function claimAndReadFacts(
  tx: Pick<Prisma.TransactionClient, '$queryRawUnsafe'>,
  batchSize: number,
): Promise<{ claimed: number; readings: FactsReading[] }> {
  const rows = await tx.$queryRawUnsafe<Row[]>(CLAIM_AND_READ_SQL, batchSize);
  const readings: FactsReading[] = [];
  for (const row of rows) {
    if (row.id === undefined || row.id === null) continue;
    const generation: GenerationKey = {
      id: row.id,
      featureId: row.featureId!,
      modelVersionId: row.modelVersionId!,
      armId: row.armId!,
      tier: row.tier!,
      hour: row.hour!,
      latencyMs: row.latencyMs!,
      error: row.error ?? null,
    };
    // A duplicate event, or one that changes nothing the metrics read, moves nothing.
    if (row.countedBefore && unchanged(row)) continue;
    readings.push({
      generation,
      before: row.countedBefore ? factsOf(generation, row, 'b') : null,
      after: factsOf(generation, row, 'a'),
    });
  }
  return { claimed: rows[0]?.claimed ?? 0, readings };
}
