/**
 * Incremental per-unit rollup of experiment data: triggers enqueue every Generation and feedback
 * event of an experiment arm (experiment_fold_queue, in the inserting transaction); this fold
 * moves them into experiment_unit_stat (one row per experiment and unit with the sums the delta
 * method needs). A guardrail check then reads one row per unit instead of every suggestion and
 * event.
 *
 * Exactly once: the fold runs under a table lock (one instance at a time) in a REPEATABLE READ
 * transaction, deletes the queue rows it folds and upserts the sums in the same
 * transaction; one fold handles at most `maxRows` (a backlog takes several). The latency threshold (control's p95) is fixed once control has enough suggestions;
 * fixing it recounts the experiment's slow suggestions from the generations in the same snapshot,
 * after the queue has been drained in that snapshot, so nothing is counted twice.
 */
import type { Prisma } from '~/generated/prisma/client';
import type { Db } from '~/server/db';
import { ABORTED_ERROR as ABORTED } from '~/features/feedback/metrics';

type Tx = Prisma.TransactionClient;

/** Control suggestions needed before control's p95 is fixed as the latency threshold. */
export const LATENCY_THRESHOLD_MIN_SUGGESTIONS = 200;

const FOLD_SQL = `
WITH q AS (
  DELETE FROM experiment_fold_queue
  WHERE id IN (SELECT id FROM experiment_fold_queue ORDER BY id LIMIT $1)
  RETURNING kind, ref
),
gd AS (
  SELECT g."experimentId", g."unitId", min(g."armId") AS "armId",
    count(*)::int AS suggestions,
    (count(*) FILTER (WHERE g.tier <> 'primary' OR g.error IS NOT NULL))::int AS fallbacks,
    (count(*) FILTER (WHERE x."latencyThresholdMs" IS NOT NULL AND g."latencyMs" > x."latencyThresholdMs"))::int AS slow
  FROM q
  JOIN generation g ON q.kind = 'g' AND g.id = q.ref
  JOIN experiment x ON x.id = g."experimentId"
  WHERE g."armId" IS NOT NULL AND (g.error IS NULL OR g.error <> '${ABORTED}')
  GROUP BY g."experimentId", g."unitId"
),
fd AS (
  SELECT g."experimentId", g."unitId", min(g."armId") AS "armId",
    (count(*) FILTER (WHERE e.type = 'shown'))::int AS shown,
    (count(*) FILTER (WHERE e.type IN ('accepted', 'accepted_partial', 'typed_through')))::int AS accepted,
    (count(*) FILTER (WHERE e.type = 'dismissed'))::int AS dismissed,
    coalesce(sum((e.payload->>'retainedChars')::float8)
      FILTER (WHERE e.type = 'retention' AND e.payload->>'window' = '2m'), 0) AS arc
  FROM q
  JOIN feedback_event e ON q.kind = 'f' AND e.id = q.ref
  JOIN generation g ON g.id = e."generationId"
  -- Only an experiment's own generations (a row with an arm but no experiment is not one).
  WHERE g."armId" IS NOT NULL AND g."experimentId" IS NOT NULL
    AND (g.error IS NULL OR g.error <> '${ABORTED}')
  GROUP BY g."experimentId", g."unitId"
),
folded AS (
  INSERT INTO experiment_unit_stat AS s
    ("experimentId", "unitId", "armId", suggestions, fallbacks, slow, shown, accepted, dismissed, arc)
  SELECT coalesce(gd."experimentId", fd."experimentId"), coalesce(gd."unitId", fd."unitId"),
    coalesce(gd."armId", fd."armId"),
    coalesce(gd.suggestions, 0), coalesce(gd.fallbacks, 0), coalesce(gd.slow, 0),
    coalesce(fd.shown, 0), coalesce(fd.accepted, 0), coalesce(fd.dismissed, 0), coalesce(fd.arc, 0)
  FROM gd FULL JOIN fd ON gd."experimentId" = fd."experimentId" AND gd."unitId" = fd."unitId"
  ON CONFLICT ("experimentId", "unitId") DO UPDATE SET
    suggestions = s.suggestions + excluded.suggestions,
    fallbacks = s.fallbacks + excluded.fallbacks,
    slow = s.slow + excluded.slow,
    shown = s.shown + excluded.shown,
    accepted = s.accepted + excluded.accepted,
    dismissed = s.dismissed + excluded.dismissed,
    arc = s.arc + excluded.arc
  RETURNING 1
)
SELECT (SELECT count(*) FROM q)::int AS dequeued`;

export interface FoldResult {
  dequeued: number;
  /** Whether the queue was empty at the end (false: `maxRows` reached; fold again). */
  drained: boolean;
  /** Experiments whose latency threshold was fixed in this fold. */
  thresholds: { experimentId: string; latencyThresholdMs: number }[];
}

/** Folds batches until the queue is empty (in this snapshot) or `maxRows` were folded. */
async function drain(
  tx: Tx,
  batch: number,
  maxRows: number,
): Promise<{ dequeued: number; drained: boolean }> {
  let dequeued = 0;
  for (;;) {
    const [row] = await tx.$queryRawUnsafe<{ dequeued: number }[]>(FOLD_SQL, batch);
    const n = row?.dequeued ?? 0;
    dequeued += n;
    if (n < batch) return { dequeued, drained: true };
    if (dequeued >= maxRows) return { dequeued, drained: false };
  }
}

async function fixLatencyThresholds(tx: Tx): Promise<FoldResult['thresholds']> {
  const due = await tx.$queryRawUnsafe<{ id: string; controlArm: string }[]>(
    `SELECT x.id, a.id AS "controlArm"
     FROM experiment x JOIN arm a ON a."experimentId" = x.id AND a."isControl"
     WHERE x.status IN ('running', 'paused') AND x."latencyThresholdMs" IS NULL
       AND (SELECT coalesce(sum(suggestions), 0) FROM experiment_unit_stat s
            WHERE s."experimentId" = x.id AND s."armId" = a.id) >= $1`,
    LATENCY_THRESHOLD_MIN_SUGGESTIONS,
  );
  const fixed: FoldResult['thresholds'] = [];
  for (const { id, controlArm } of due) {
    const [p] = await tx.$queryRawUnsafe<{ p95: number | null }[]>(
      `SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY "latencyMs") AS p95
       FROM generation WHERE "armId" = $1 AND (error IS NULL OR error <> '${ABORTED}')`,
      controlArm,
    );
    if (p?.p95 === null || p?.p95 === undefined) continue;
    await tx.$executeRawUnsafe(
      `UPDATE experiment SET "latencyThresholdMs" = $2 WHERE id = $1`,
      id,
      p.p95,
    );
    await tx.$executeRawUnsafe(
      `UPDATE experiment_unit_stat s SET slow = c.slow
       FROM (SELECT "unitId", (count(*) FILTER (WHERE "latencyMs" > $2))::int AS slow
             FROM generation
             WHERE "experimentId" = $1 AND "armId" IS NOT NULL
               AND (error IS NULL OR error <> '${ABORTED}')
             GROUP BY "unitId") c
       WHERE s."experimentId" = $1 AND s."unitId" = c."unitId"`,
      id,
      p.p95,
    );
    fixed.push({ experimentId: id, latencyThresholdMs: p.p95 });
  }
  return fixed;
}

/**
 * Folds everything queued. One instance folds at a time: the others wait for it, then fold what
 * is left (so a check that follows reads fresh sums).
 *
 * The lock is `LOCK TABLE experiment_unit_stat IN SHARE UPDATE EXCLUSIVE MODE` as the first
 * statement: it conflicts only with itself (and VACUUM), not with reads or inserts, and a
 * REPEATABLE READ snapshot is taken only after it is granted, so the fold sees the deletions of
 * the fold it waited for.
 */
export function foldExperimentQueue(
  db: Db,
  options: { batch?: number; maxRows?: number } = {},
): Promise<FoldResult> {
  return db.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe(`LOCK TABLE experiment_unit_stat IN SHARE UPDATE EXCLUSIVE MODE`);
      await tx.$queryRawUnsafe(`SELECT set_config('jit', 'off', true)`);
      const { dequeued, drained } = await drain(
        tx,
        options.batch ?? 20_000,
        options.maxRows ?? 200_000,
      );
      // Fixing a threshold recounts from the generations, which is exact only once everything
      // visible in this snapshot has been folded.
      const thresholds = drained ? await fixLatencyThresholds(tx) : [];
      return { dequeued, drained, thresholds };
    },
    { isolationLevel: 'RepeatableRead', timeout: 120_000, maxWait: 10_000 },
  );
}
