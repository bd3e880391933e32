/**
 * SQL for bench/dashboards-bench.ts: a set-based traffic seed (the model of
 * src/features/dashboards/server/traffic.ts written in SQL, so 10M events load in minutes), the
 * plain aggregation of the raw tables each dashboard query is compared with, and the CPU time of
 * a PostgreSQL cluster (the machine is shared: CPU time is the load-independent figure).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { DashboardFilters } from '../../src/features/dashboards/filters';

/** Uniform [0, 1) from the seed ($1), the generation number `i` and the draw `k`. */
const u = (k: number | string) =>
  `(((hashint8extended(i, $1::bigint * 1000 + ${k}) >> 11) & 9007199254740991)::float8 / 9007199254740992)`;
const normal = (k1: number, k2: number) =>
  `(sqrt(-2 * ln(${u(k1)} + 1e-12)) * cos(2 * pi() * ${u(k2)}))`;
const uuid = (parts: string) => `md5(${parts})::uuid::text`;
const ABORTED = `'aborted by the caller'`;

/**
 * Every step is MATERIALIZED: inlined, each use of a drawn value would draw (hash) it again.
 * Writes generations $2 ≤ i < $3 of $4 spread evenly over [$5, $5 + $6 ms), their feedback, and
 * the queue rows the triggers would have written, in event-time order. Run with
 * session_replication_role = replica (no triggers, no FK checks: the rows are consistent by
 * construction) and a temp table `variant (k, featureId, modelVersionId, armId, quality, speed)`
 * with k = 0..2 for the first feature and 3 for the second. Returns the counts written.
 */
export const SEED_CHUNK_SQL = `
WITH gen AS MATERIALIZED (
  SELECT x.*, v."featureId", v."modelVersionId", v."armId", v.quality,
    greatest(1, exp(ln(150 / v.speed) + 0.6 * x.n1)) AS "latencyMs"
  FROM (
    SELECT i, ${uuid(`$1::bigint::text || ':g:' || i`)} AS id,
      $5::timestamp + (i::float8 / $4 * $6) * interval '1 millisecond' AS "createdAt",
      CASE WHEN ${u(1)} < 0.5 THEN floor(${u(2)} * 3)::int ELSE 3 END AS k,
      (ARRAY['primary', 'primary', 'primary', 'primary', 'fallback_model', 'ngram', 'none'])[1 + floor(${u(3)} * 7)::int] AS tier,
      ${normal(4, 5)} AS n1,
      CASE WHEN ${u(6)} < 0.02 THEN ${ABORTED} WHEN ${u(6)} < 0.05 THEN 'backend timeout' END AS error,
      'unit-' || floor(${u(7)} * 500)::int AS "unitId",
      ${u(8)} >= 0.25 AS visible
    FROM generate_series($2::bigint, $3::bigint - 1) i
  ) x JOIN variant v ON v.k = x.k
), shown AS MATERIALIZED (
  SELECT gen.*, greatest(0, 8 + 6 * ${normal(9, 10)}) AS "clientMs",
    least(0.9, 0.35 * quality / (1 + "latencyMs" / 800)) AS p, ${u(11)} AS r,
    exp(ln(1200) + 0.8 * ${normal(13, 14)}) AS "personMs"
  FROM gen WHERE tier <> 'none' AND error IS DISTINCT FROM ${ABORTED} AND visible
), decided AS MATERIALIZED (
  SELECT s.*, o.outcome,
    CASE WHEN o.outcome = 'accepted' THEN 29 ELSE floor(5 + ${u(12)} * 20) END AS ac,
    "createdAt" + "personMs" * interval '1 millisecond' AS "decidedAt"
  FROM shown s CROSS JOIN LATERAL (SELECT CASE WHEN r < p * 0.7 THEN 'accepted'
    WHEN r < p THEN 'accepted_partial' WHEN r < p + 0.05 THEN 'typed_through'
    WHEN r < p + 0.2 THEN 'dismissed' ELSE 'ignored' END AS outcome) o
), kept AS MATERIALIZED (
  SELECT d.*, r30, r2, greatest(0, r2 - floor(${u(18)} * 6 / quality)) AS r10
  FROM decided d
  CROSS JOIN LATERAL (SELECT greatest(0, ac - floor(${u(16)} * 6 / quality)) AS r30) a
  CROSS JOIN LATERAL (SELECT greatest(0, r30 - floor(${u(17)} * 6 / quality)) AS r2) b
), ev AS MATERIALIZED (
  SELECT ${uuid(`$1::bigint::text || ':e:' || i || ':' || e.k || ':' || d`)} AS id,
    ${uuid(`$1::bigint::text || ':c:' || i || ':' || e.k || ':' || d`)} AS "clientEventId",
    kept.id AS "generationId", e.type::"FeedbackType" AS type, e.payload, e.ts AS "clientTs"
  FROM kept
  CROSS JOIN LATERAL (VALUES
    (1, 'shown', jsonb_build_object('gateMs', 750, 'responseToShownMs', "clientMs"), "createdAt", true),
    (2, outcome, jsonb_build_object('shownToDecisionMs', "personMs", 'suggestedChars', 29,
      'acceptedChars', ac, 'typedChars', 29), "decidedAt", true),
    (3, 'ignored', jsonb_build_object('shownToDecisionMs', 2 * "personMs"), "decidedAt", ${u(15)} < 0.03),
    ${[
      [4, '30s', 'r30', 30_000],
      [5, '2m', 'r2', 120_000],
      [6, '10m', 'r10', 600_000],
    ]
      .map(
        ([k, w, col, ms]) =>
          `(${k}, 'retention', jsonb_build_object('window', '${w}', 'retainedChars', ${col},
      'acceptedChars', ac, 'editDistance', CASE WHEN ac > 0 THEN 1 - ${col} / ac ELSE 0 END),
      "decidedAt" + interval '${ms} milliseconds', outcome IN ('accepted', 'accepted_partial'))`,
      )
      .join(',\n    ')}
  ) e (k, type, payload, ts, keep)
  -- A client bug now and then sends an event twice under a new client id.
  CROSS JOIN LATERAL generate_series(0, CASE WHEN ${u('20 + e.k')} < 0.02 THEN 1 ELSE 0 END) d
  WHERE e.keep
), ig AS (
  INSERT INTO generation (id, "featureId", "modelVersionId", "armId", "unitId", tier, prompt, output,
    "latencyMs", error, "createdAt")
  SELECT id, "featureId", "modelVersionId", "armId", "unitId", tier::"Tier", 'The quick brown',
    CASE WHEN tier = 'none' THEN '' ELSE ' and the rest of the sentence' END, "latencyMs", error, "createdAt"
  FROM gen RETURNING 1
), ie AS (
  INSERT INTO feedback_event (id, "clientEventId", "generationId", type, payload, "clientTs")
  SELECT * FROM ev RETURNING 1
), iq AS (
  INSERT INTO rollup_queue ("generationId", "eventId")
  SELECT gid, eid FROM (
    SELECT id AS gid, NULL::text AS eid, "createdAt" AS ts, 0 AS o FROM gen
    UNION ALL SELECT "generationId", id, "clientTs", 1 FROM ev
  ) q ORDER BY ts, o RETURNING 1
)
SELECT (SELECT count(*) FROM ig)::int AS g, (SELECT count(*) FROM ie)::int AS e,
  (SELECT count(*) FROM iq)::int AS q`;

/**
 * The figures of one dashboard query computed from the raw tables: per version and time bucket,
 * per version, and per time bucket and tier (counts, acceptance, ARC at 2 min, server latency
 * p50/p95/p99, person latency p50/p95), with the same filters and granularity.
 */
export function RAW_SQL(f: DashboardFilters): { sql: string; params: unknown[] } {
  const params: unknown[] = [f.from.toISOString(), f.to.toISOString()];
  const where = [`"createdAt" >= $1::timestamp`, `"createdAt" < $2::timestamp`];
  const add = (sql: (n: number) => string, value: unknown) => {
    params.push(value);
    where.push(sql(params.length));
  };
  if (f.featureId) add((n) => `"featureId" = $${n}`, f.featureId);
  if (f.modelVersionIds?.length)
    add((n) => `"modelVersionId" = ANY($${n}::text[])`, f.modelVersionIds);
  if (f.armId) add((n) => `"armId" = $${n}`, f.armId);
  if (f.tier) add((n) => `tier = $${n}::"Tier"`, f.tier);
  const grain = f.to.getTime() - f.from.getTime() <= 72 * 3_600_000 ? 'hour' : 'day';
  const sql = `
    WITH g AS (
      SELECT id, coalesce("modelVersionId", '') AS v, date_trunc('${grain}', "createdAt") AS t, tier, "latencyMs"
      FROM generation WHERE ${where.join(' AND ')} AND (error IS NULL OR error <> 'aborted by the caller')
    ), f AS (
      SELECT e."generationId" AS gid, bool_or(e.type = 'shown') AS shown,
        bool_or(e.type IN ('accepted', 'accepted_partial')) AS accepted,
        max((e.payload->>'retainedChars')::float8) FILTER (WHERE e.type = 'retention' AND e.payload->>'window' = '2m') AS arc,
        min((e.payload->>'shownToDecisionMs')::float8)
          FILTER (WHERE e.type IN ('accepted', 'accepted_partial', 'typed_through', 'dismissed', 'ignored')) AS person
      FROM feedback_event e JOIN g ON g.id = e."generationId" GROUP BY 1
    )
    SELECT v, t, tier, count(*) AS opportunities, count(*) FILTER (WHERE f.shown) AS shown,
      count(*) FILTER (WHERE f.shown AND f.accepted) AS accepted, sum(f.arc) FILTER (WHERE f.shown) AS arc,
      percentile_disc(0.5) WITHIN GROUP (ORDER BY g."latencyMs") AS p50,
      percentile_disc(0.95) WITHIN GROUP (ORDER BY g."latencyMs") AS p95,
      percentile_disc(0.99) WITHIN GROUP (ORDER BY g."latencyMs") AS p99,
      percentile_disc(0.5) WITHIN GROUP (ORDER BY f.person) FILTER (WHERE f.shown) AS person_p50,
      percentile_disc(0.95) WITHIN GROUP (ORDER BY f.person) FILTER (WHERE f.shown) AS person_p95
    FROM g LEFT JOIN f ON f.gid = g.id
    GROUP BY GROUPING SETS ((v, t), (v), (t, tier))`;
  return { sql, params };
}

/** CPU milliseconds used so far by the cluster listening on `port`: its server, live and ended backends. */
export function postgresCpuMs(port: string): number {
  const procs = new Map<string, { ppid: string; ms: number; cmd: string }>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      // utime, stime, and for the server the cutime and cstime of the backends that ended.
      const ticks = [11, 12, 13, 14].reduce((a, i) => a + Number(fields[i]), 0);
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      procs.set(pid, { ppid: fields[1]!, ms: ticks * 10, cmd: cmd.join(' ') });
    } catch {
      // The process ended while being read.
    }
  }
  const server = [...procs].find(
    ([, p]) => p.cmd.includes('bin/postgres') && p.cmd.includes(`-p ${port} `),
  );
  if (!server) return NaN;
  return [...procs].reduce(
    (sum, [pid, p]) => sum + (pid === server[0] || p.ppid === server[0] ? p.ms : 0),
    0,
  );
}
