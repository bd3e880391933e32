/**
 * Reads an experiment's per-arm data from PostgreSQL in two queries: exposures (Assignment rows)
 * and, from its Generations and their feedback, the unit-level moments of every ratio metric
 * (the sums the delta method needs), so no per-unit rows leave the database.
 *
 * A Generation abandoned by its caller (a newer keystroke) is not an observation. Latency p95 is
 * read as the share of an arm's suggestions slower than control's p95.
 */
import type { Prisma } from '~/generated/prisma/client';
import type { Db } from '~/server/db';
import type { GuardrailMetric } from '../config';
import type { RatioMoments } from '../stats';
import { ABORTED_ERROR as ABORTED } from '~/features/feedback/metrics';

type Reader = Pick<Prisma.TransactionClient, '$queryRawUnsafe'>;

export type MetricName = GuardrailMetric | 'arc_per_unit' | 'chars_per_opportunity';

export interface ArmReading {
  armId: string;
  exposures: number;
  /** Units with at least one (non-abandoned) suggestion. */
  units: number;
  suggestions: number;
  latencyP50: number | null;
  latencyP95: number | null;
  metrics: Record<MetricName, RatioMoments>;
}

/** The same sums by a full scan of the generations and events (tests and checks of the rollup). */
export const SCAN_MOMENTS_SQL = `
WITH g AS (
  SELECT id, "armId", "unitId", tier, error, "latencyMs"
  FROM generation
  WHERE "armId" = ANY($1::text[]) AND (error IS NULL OR error <> '${ABORTED}')
),
fb AS (
  SELECT e."generationId" AS gid,
    bool_or(e.type = 'shown') AS shown,
    bool_or(e.type IN ('accepted', 'accepted_partial', 'typed_through')) AS accepted,
    bool_or(e.type = 'dismissed') AS dismissed,
    max((e.payload->>'retainedChars')::float8)
      FILTER (WHERE e.type = 'retention' AND e.payload->>'window' = '2m') AS arc
  FROM feedback_event e JOIN g ON g.id = e."generationId"
  GROUP BY e."generationId"
),
threshold AS (
  SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY "latencyMs") AS p95 FROM g WHERE "armId" = $2
),
u AS (
  SELECT g."armId", g."unitId",
    count(*)::float8 AS gens,
    (count(*) FILTER (WHERE g.tier <> 'primary' OR g.error IS NOT NULL))::float8 AS fallbacks,
    (count(*) FILTER (WHERE g."latencyMs" > t.p95))::float8 AS slow,
    (count(*) FILTER (WHERE fb.shown))::float8 AS shown,
    (count(*) FILTER (WHERE fb.shown AND fb.accepted))::float8 AS accepted,
    (count(*) FILTER (WHERE fb.shown AND fb.dismissed))::float8 AS dismissed,
    coalesce(sum(fb.arc) FILTER (WHERE fb.shown), 0)::float8 AS arc
  FROM g CROSS JOIN threshold t LEFT JOIN fb ON fb.gid = g.id
  GROUP BY g."armId", g."unitId"
)
SELECT "armId",
  count(*)::float8 AS units,
  sum(gens) AS gens, sum(gens * gens) AS gens2,
  sum(fallbacks) AS fb, sum(fallbacks * fallbacks) AS fb2, sum(fallbacks * gens) AS fbg,
  sum(slow) AS sl, sum(slow * slow) AS sl2, sum(slow * gens) AS slg,
  (count(*) FILTER (WHERE shown > 0))::float8 AS shown_units,
  sum(shown) AS sh, sum(shown * shown) AS sh2,
  sum(accepted) AS ac, sum(accepted * accepted) AS ac2, sum(accepted * shown) AS acsh,
  sum(dismissed) AS di, sum(dismissed * dismissed) AS di2, sum(dismissed * shown) AS dish,
  sum(arc) AS arc, sum(arc * arc) AS arc2, sum(arc * shown) AS arcsh
FROM u GROUP BY "armId"`;

/** The sums from the per-unit rollup (unit-rollup.ts): one row per unit. */
export const ROLLUP_MOMENTS_SQL = `
SELECT "armId",
  (count(*) FILTER (WHERE suggestions > 0))::float8 AS units,
  sum(suggestions)::float8 AS gens, sum(suggestions::float8 * suggestions) AS gens2,
  sum(fallbacks)::float8 AS fb, sum(fallbacks::float8 * fallbacks) AS fb2,
  sum(fallbacks::float8 * suggestions) AS fbg,
  sum(slow)::float8 AS sl, sum(slow::float8 * slow) AS sl2, sum(slow::float8 * suggestions) AS slg,
  (count(*) FILTER (WHERE shown > 0))::float8 AS shown_units,
  sum(shown)::float8 AS sh, sum(shown::float8 * shown) AS sh2,
  sum(accepted)::float8 AS ac, sum(accepted::float8 * accepted) AS ac2,
  sum(accepted::float8 * shown) AS acsh,
  sum(dismissed)::float8 AS di, sum(dismissed::float8 * dismissed) AS di2,
  sum(dismissed::float8 * shown) AS dish,
  sum(arc) AS arc, sum(arc * arc) AS arc2, sum(arc * shown) AS arcsh
FROM experiment_unit_stat WHERE "experimentId" = $1 GROUP BY "armId"`;

const LATENCY_SQL = `
SELECT "armId",
  percentile_cont(0.5) WITHIN GROUP (ORDER BY "latencyMs") AS p50,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY "latencyMs") AS p95
FROM generation
WHERE "armId" = ANY($1::text[]) AND (error IS NULL OR error <> '${ABORTED}')
GROUP BY "armId"`;

type MomentsRow = Record<
  | 'units'
  | 'gens'
  | 'gens2'
  | 'fb'
  | 'fb2'
  | 'fbg'
  | 'sl'
  | 'sl2'
  | 'slg'
  | 'shown_units'
  | 'sh'
  | 'sh2'
  | 'ac'
  | 'ac2'
  | 'acsh'
  | 'di'
  | 'di2'
  | 'dish'
  | 'arc'
  | 'arc2'
  | 'arcsh',
  number | null
> & { armId: string };

const empty = (): RatioMoments => ({ n: 0, sumX: 0, sumY: 0, sumXX: 0, sumYY: 0, sumXY: 0 });

export interface ReadOptions {
  /** Read p50/p95 latency per arm (a sort of every suggestion; the results page wants it). */
  latency?: boolean;
  /** "rollup" (default): the per-unit rollup, folded by the job; "scan": every row. */
  source?: 'rollup' | 'scan';
}

/**
 * The per-arm reading. Inside a transaction (the job's) it runs there; otherwise in one of its own.
 * The planner overestimates these joins by orders of magnitude, which turns JIT compilation on
 * (seconds on a small machine) and sorts on disk: both are switched off for this transaction.
 */
export function readArmData(
  db: Db,
  experimentId: string,
  arms: readonly { id: string; isControl: boolean }[],
  options: ReadOptions = {},
): Promise<ArmReading[]> {
  return db.$transaction((tx) => readArmDataIn(tx, experimentId, arms, options), {
    timeout: 60_000,
  });
}

/** The same, inside the caller's transaction (the guardrail job's). */
export async function readArmDataIn(
  db: Reader,
  experimentId: string,
  arms: readonly { id: string; isControl: boolean }[],
  options: ReadOptions = {},
): Promise<ArmReading[]> {
  const control = arms.find((a) => a.isControl);
  if (!control) throw new Error(`Experiment ${experimentId} has no control arm`);
  const ids = arms.map((a) => a.id);
  await db.$queryRawUnsafe(
    `SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)`,
  );
  const exposures = await db.$queryRawUnsafe<{ armId: string; n: number }[]>(
    `SELECT "armId", count(*)::float8 AS n FROM assignment WHERE "experimentId" = $1 GROUP BY "armId"`,
    experimentId,
  );
  const scan = options.source === 'scan';
  const moments = scan
    ? await db.$queryRawUnsafe<MomentsRow[]>(SCAN_MOMENTS_SQL, ids, control.id)
    : await db.$queryRawUnsafe<MomentsRow[]>(ROLLUP_MOMENTS_SQL, experimentId);
  // The rollup's slow counts exist once control's p95 has been fixed as the threshold.
  const [threshold] = scan
    ? [{ t: 0 }]
    : await db.$queryRawUnsafe<{ t: number | null }[]>(
        `SELECT "latencyThresholdMs" AS t FROM experiment WHERE id = $1`,
        experimentId,
      );
  const latencyTested = threshold?.t !== null && threshold?.t !== undefined;
  const latency =
    options.latency === false
      ? []
      : await db.$queryRawUnsafe<{ armId: string; p50: number | null; p95: number | null }[]>(
          LATENCY_SQL,
          ids,
        );
  return arms.map((arm) => {
    const r = moments.find((m) => m.armId === arm.id);
    const v = (k: keyof Omit<MomentsRow, 'armId'>) => Number(r?.[k] ?? 0);
    const units = v('units');
    const l = latency.find((x) => x.armId === arm.id);
    const metrics: Record<MetricName, RatioMoments> = r
      ? {
          fallback_rate: {
            n: units,
            sumX: v('fb'),
            sumY: v('gens'),
            sumXX: v('fb2'),
            sumYY: v('gens2'),
            sumXY: v('fbg'),
          },
          latency_p95: !latencyTested
            ? empty()
            : {
                n: units,
                sumX: v('sl'),
                sumY: v('gens'),
                sumXX: v('sl2'),
                sumYY: v('gens2'),
                sumXY: v('slg'),
              },
          acceptance_rate: {
            n: v('shown_units'),
            sumX: v('ac'),
            sumY: v('sh'),
            sumXX: v('ac2'),
            sumYY: v('sh2'),
            sumXY: v('acsh'),
          },
          dismissal_rate: {
            n: v('shown_units'),
            sumX: v('di'),
            sumY: v('sh'),
            sumXX: v('di2'),
            sumYY: v('sh2'),
            sumXY: v('dish'),
          },
          chars_per_opportunity: {
            n: v('shown_units'),
            sumX: v('arc'),
            sumY: v('sh'),
            sumXX: v('arc2'),
            sumYY: v('sh2'),
            sumXY: v('arcsh'),
          },
          arc_per_unit: {
            n: units,
            sumX: v('arc'),
            sumY: units,
            sumXX: v('arc2'),
            sumYY: units,
            sumXY: v('arc'),
          },
        }
      : {
          fallback_rate: empty(),
          latency_p95: empty(),
          acceptance_rate: empty(),
          dismissal_rate: empty(),
          chars_per_opportunity: empty(),
          arc_per_unit: empty(),
        };
    return {
      armId: arm.id,
      exposures: Number(exposures.find((e) => e.armId === arm.id)?.n ?? 0),
      units,
      suggestions: v('gens'),
      latencyP50: l?.p50 ?? null,
      latencyP95: l?.p95 ?? null,
      metrics,
    };
  });
}

/** Days before a unit's first exposure that make its pre-period (CUPED covariate). */
export const CUPED_PRE_PERIOD_DAYS = 14;

export interface CupedUnit {
  armId: string;
  /** The unit's acceptance in the experiment (accepted / shown). */
  y: number;
  /** Its acceptance on the same feature in the pre-period, null without shown suggestions then. */
  x: number | null;
}

/**
 * Per unit with shown suggestions: its acceptance in the experiment and in the 14 days before its
 * first exposure (suggestions of the same feature outside this experiment).
 */
export function readCupedUnits(db: Db, experimentId: string, featureId: string) {
  return db.$queryRawUnsafe<CupedUnit[]>(
    `SELECT s."armId", s.accepted::float8 / s.shown AS y,
       CASE WHEN p.shown > 0 THEN p.accepted::float8 / p.shown END AS x
     FROM experiment_unit_stat s
     JOIN assignment a ON a."experimentId" = s."experimentId" AND a."unitId" = s."unitId"
     LEFT JOIN LATERAL (
       SELECT count(*) FILTER (WHERE e.type = 'shown') AS shown,
         count(*) FILTER (WHERE e.type IN ('accepted', 'accepted_partial', 'typed_through')) AS accepted
       FROM generation g JOIN feedback_event e ON e."generationId" = g.id
       WHERE g."unitId" = s."unitId" AND g."featureId" = $2
         AND (g."experimentId" IS NULL OR g."experimentId" <> s."experimentId")
         AND g."createdAt" < a."firstExposedAt"
         AND g."createdAt" >= a."firstExposedAt" - make_interval(days => $3)
     ) p ON true
     WHERE s."experimentId" = $1 AND s.shown > 0`,
    experimentId,
    featureId,
    CUPED_PRE_PERIOD_DAYS,
  );
}
