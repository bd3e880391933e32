/**
 * Reads the facts (metrics.ts `GenerationFacts`) of generations twice: as the rollups hold them
 * now ("before": what was folded so far) and as they will hold them after this fold ("after").
 *
 * Folded means "no longer in rollup_queue". This runs after the fold deleted its claimed queue
 * rows, in one statement (one snapshot), so:
 *   after  = rows not in the queue,
 *   before = rows not in the queue and not claimed by this fold.
 * A row inserted while the fold runs has its queue row inserted in the same transaction, so it is
 * in neither state and waits for the next fold.
 */
import type { Prisma } from '~/generated/prisma/client';
import type { GenerationFacts } from '~/features/feedback/metrics';

export interface FactsRow {
  id: string;
  before: boolean;
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
WITH affected AS (SELECT DISTINCT unnest($1::text[]) AS id),
claimed_gen AS (SELECT DISTINCT unnest($2::text[]) AS id),
claimed_ev AS (SELECT DISTINCT unnest($3::text[]) AS id),
states(before) AS (VALUES (true), (false)),
ev AS (
  SELECT e.*, s.before
  FROM feedback_event e
  JOIN affected a ON a.id = e."generationId"
  CROSS JOIN states s
  LEFT JOIN claimed_ev c ON c.id = e.id
  WHERE NOT EXISTS (
      SELECT 1 FROM rollup_queue q WHERE q."generationId" = e."generationId" AND q."eventId" = e.id)
    AND NOT (s.before AND c.id IS NOT NULL)
),
f AS (
  SELECT e."generationId" AS gid, e.before,
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
  FROM ev e
  GROUP BY e."generationId", e.before
)
SELECT g.id, s.before,
  NOT EXISTS (SELECT 1 FROM rollup_queue q WHERE q."generationId" = g.id AND q."eventId" IS NULL)
    AND NOT (s.before AND cg.id IS NOT NULL) AS counted,
  g."featureId", coalesce(g."modelVersionId", '') AS "modelVersionId", coalesce(g."armId", '') AS "armId",
  g.tier::text AS tier, to_char(date_trunc('hour', g."createdAt"), 'YYYY-MM-DD"T"HH24:00:00') AS hour,
  g."latencyMs", g.error,
  f.shown, f."clientMs", f.accepted, f."acceptedPartial", f."typedThrough", f.dismissed, f.ignored,
  f."personMs", f."acceptedChars", f."retained30s", f."retained2m", f."retained10m", f."editDistance2m"
FROM generation g
JOIN affected a ON a.id = g.id
CROSS JOIN states s
LEFT JOIN claimed_gen cg ON cg.id = g.id
LEFT JOIN f ON f.gid = g.id AND f.before = s.before`;

export async function readFacts(
  tx: Pick<Prisma.TransactionClient, '$queryRawUnsafe'>,
  claimed: { generationIds: string[]; claimedGenerationIds: string[]; claimedEventIds: string[] },
): Promise<FactsRow[]> {
  if (claimed.generationIds.length === 0) return [];
  return tx.$queryRawUnsafe<FactsRow[]>(
    FACTS_SQL,
    claimed.generationIds,
    claimed.claimedGenerationIds,
    claimed.claimedEventIds,
  );
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
