/**
 * Reads the facts (metrics.ts `GenerationFacts`) of generations as the rollups hold them: a
 * generation or event still in rollup_queue is not folded yet and does not count. The fold reads
 * them once before and once after deleting the queue rows it claimed (under its lock nobody else
 * deletes queue rows), so the two readings differ by exactly what it claimed. A row inserted
 * meanwhile has its queue row inserted in the same transaction, so it counts in neither.
 *
 * LATERAL per generation keeps this on the (generationId, …) indexes of feedback_event and
 * rollup_queue: its cost follows the generations touched, not the size of the tables.
 */
import type { Prisma } from '~/generated/prisma/client';
import type { GenerationFacts } from '~/features/feedback/metrics';

export interface FactsRow {
  id: string;
  /** False while the generation itself is still queued: then it contributes nothing yet. */
  counted: boolean;
  featureId: string;
  modelVersionId: string;
  armId: string;
  tier: string;
  /** ISO hour (UTC, no zone) of the generation: late feedback lands in its generation's hour. */
  hour: string;
  latencyMs: number;
  error: string | null;
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

const num = (key: string) => `(e.payload->>'${key}')::float8`;

const FACTS_SQL = `
SELECT g.id,
  NOT EXISTS (SELECT 1 FROM rollup_queue q WHERE q."generationId" = g.id AND q."eventId" IS NULL) AS counted,
  g."featureId", coalesce(g."modelVersionId", '') AS "modelVersionId", coalesce(g."armId", '') AS "armId",
  g.tier::text AS tier, to_char(date_trunc('hour', g."createdAt"), 'YYYY-MM-DD"T"HH24:00:00') AS hour,
  g."latencyMs", g.error, f.*
FROM unnest($1::text[]) AS a(id)
JOIN generation g ON g.id = a.id
CROSS JOIN LATERAL (
  SELECT
    bool_or(e.type = 'shown') AS shown,
    min(${num('responseToShownMs')}) FILTER (WHERE e.type = 'shown') AS "clientMs",
    bool_or(e.type = 'accepted') AS accepted,
    bool_or(e.type = 'accepted_partial') AS "acceptedPartial",
    bool_or(e.type = 'typed_through') AS "typedThrough",
    bool_or(e.type = 'dismissed') AS dismissed,
    bool_or(e.type = 'ignored') AS ignored,
    min(${num('shownToDecisionMs')})
      FILTER (WHERE e.type IN ('accepted', 'accepted_partial', 'typed_through', 'dismissed', 'ignored')) AS "personMs",
    max(coalesce(${num('acceptedChars')}, ${num('suggestedChars')}))
      FILTER (WHERE e.type IN ('accepted', 'accepted_partial')) AS "acceptedChars",
    max(${num('retainedChars')}) FILTER (WHERE e.type = 'retention' AND e.payload->>'window' = '30s') AS "retained30s",
    max(${num('retainedChars')}) FILTER (WHERE e.type = 'retention' AND e.payload->>'window' = '2m') AS "retained2m",
    max(${num('retainedChars')}) FILTER (WHERE e.type = 'retention' AND e.payload->>'window' = '10m') AS "retained10m",
    max(${num('editDistance')}) FILTER (WHERE e.type = 'retention' AND e.payload->>'window' = '2m') AS "editDistance2m"
  FROM feedback_event e
  WHERE e."generationId" = g.id
    AND NOT EXISTS (
      SELECT 1 FROM rollup_queue q WHERE q."generationId" = e."generationId" AND q."eventId" = e.id)
) f`;

export async function readFacts(
  tx: Pick<Prisma.TransactionClient, '$queryRawUnsafe'>,
  generationIds: string[],
): Promise<FactsRow[]> {
  if (generationIds.length === 0) return [];
  return tx.$queryRawUnsafe<FactsRow[]>(FACTS_SQL, generationIds);
}

export function factsOf(row: FactsRow): GenerationFacts {
  return {
    latencyMs: row.latencyMs,
    error: row.error,
    shown: row.shown === true,
    clientMs: row.clientMs,
    outcomes: {
      accepted: row.accepted === true,
      accepted_partial: row.acceptedPartial === true,
      typed_through: row.typedThrough === true,
      dismissed: row.dismissed === true,
      ignored: row.ignored === true,
    },
    personMs: row.personMs,
    acceptedChars: row.acceptedChars,
    retained30s: row.retained30s,
    retained2m: row.retained2m,
    retained10m: row.retained10m,
    editDistance2m: row.editDistance2m,
  };
}
