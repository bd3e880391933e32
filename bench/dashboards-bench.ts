/**
 * Dashboards benchmark on a real PostgreSQL 15 (a throwaway cluster from the Debian binaries).
 *   load:    seeded traffic (generateTraffic) inserted in chunks with plain multi-row INSERTs; the
 *            rollup triggers run as they do in production
 *   rollups: after each chunk the rollup job folds everything queued (foldOnce, 20k rows a fold);
 *            prints queued rows (generations + events) and feedback events folded per second
 *   queries: every dashboard query the page makes (readDashboard) over the whole span, the last
 *            7 days and one version, median of 3, against a plain SQL aggregation of the raw
 *            tables computing the same per-version, per-day figures (counts, ARC, p50/p95/p99)
 * Usage: npm run bench:dashboards (BENCH_EVENTS=10000000 feedback events, BENCH_DAYS=30).
 * Never a test: nothing here asserts on time.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../src/generated/prisma/client';
import { foldOnce } from '../src/features/dashboards/server/rollup-job';
import { readDashboard } from '../src/features/dashboards/server/dashboards-service';
import {
  generateTraffic,
  seededUuid,
  type TrafficTarget,
} from '../src/features/dashboards/server/traffic';
import { applyMigrations } from '../src/server/db/migrations';
import { startPostgresCluster } from '../src/server/db/postgres-cluster';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const HOUR = 3_600_000;
// Measured: generateTraffic writes about 1.9 feedback events per suggestion.
const EVENTS_PER_SUGGESTION = 1.9;
const CHUNK_SUGGESTIONS = 100_000;

const cluster = await startPostgresCluster();
const pool = new pg.Pool({ connectionString: cluster.url, max: 4 });
const db = new PrismaClient({
  adapter: new PrismaPg({ connectionString: cluster.url, max: 4 }),
});

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await fn();
  return [value, performance.now() - t0];
}

async function median(fn: () => Promise<unknown>, runs = 3) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await timed(fn))[1]);
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

async function insertRows(
  table: string,
  rows: Record<string, unknown>[],
  casts: Record<string, string>,
) {
  const columns = Object.keys(casts);
  for (let i = 0; i < rows.length; i += 10_000) {
    const slice = rows.slice(i, i + 10_000);
    const params = columns.map((c) =>
      slice.map((r) => {
        const v = r[c];
        if (v instanceof Date) return v.toISOString();
        if (v !== null && typeof v === 'object') return JSON.stringify(v);
        return v ?? null;
      }),
    );
    await pool.query(
      `INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')})
       SELECT * FROM unnest(${columns.map((c, k) => `$${k + 1}::${casts[c]}[]`).join(', ')})`,
      params,
    );
  }
}

try {
  await applyMigrations(cluster.url);
  const versions = await Promise.all(
    ['1', '2', '3'].map((v) =>
      db.modelVersion.create({ data: { name: 'bench', version: v, backendModel: `bench-${v}` } }),
    ),
  );
  for (const id of ['bench-completion', 'bench-rewrite'])
    await db.feature.create({ data: { id, task: 'completion', config: {}, configHash: 'b' } });
  const targets: TrafficTarget[] = [
    {
      featureId: 'bench-completion',
      variants: versions.map((v, i) => ({
        modelVersionId: v.id,
        quality: 1 + i * 0.2,
        speed: 1 - i * 0.2,
      })),
    },
    {
      featureId: 'bench-rewrite',
      variants: [{ modelVersionId: versions[2]!.id, quality: 1, speed: 0.5 }],
    },
  ];
  const suggestions = Math.ceil(EVENTS / EVENTS_PER_SUGGESTION);
  const end = new Date(Math.floor(Date.now() / HOUR) * HOUR);
  const span = DAYS * 24 * HOUR;
  const start = new Date(end.getTime() - span);
  let loadMs = 0;
  let foldMs = 0;
  let folded = 0;
  let events = 0;
  let generations = 0;
  for (let done = 0; done < suggestions; done += CHUNK_SUGGESTIONS) {
    const n = Math.min(CHUNK_SUGGESTIONS, suggestions - done);
    const traffic = generateTraffic(targets, {
      seed: 1 + done,
      suggestions: n,
      start: new Date(start.getTime() + (done / suggestions) * span),
      spanMs: (n / suggestions) * span,
    });
    const feedback = [...traffic.events, ...traffic.late].map((e) => ({
      ...e,
      id: seededUuid('e', e.clientEventId),
    }));
    loadMs += (
      await timed(async () => {
        await insertRows('generation', traffic.generations, {
          id: 'text',
          featureId: 'text',
          modelVersionId: 'text',
          armId: 'text',
          unitId: 'text',
          tier: '"Tier"',
          prompt: 'text',
          output: 'text',
          latencyMs: 'float8',
          error: 'text',
          createdAt: 'timestamp',
        });
        await insertRows('feedback_event', feedback, {
          id: 'text',
          clientEventId: 'text',
          generationId: 'text',
          type: '"FeedbackType"',
          payload: 'jsonb',
          clientTs: 'timestamp',
        });
      })
    )[1];
    generations += traffic.generations.length;
    events += feedback.length;
    foldMs += (
      await timed(async () => {
        for (;;) {
          const r = await foldOnce(db, { batchSize: 20_000 });
          folded += r.claimed;
          if (r.claimed === 0) break;
        }
      })
    )[1];
    process.stdout.write(`\r${events.toLocaleString()} events loaded and folded`);
  }
  await pool.query('VACUUM ANALYZE');
  const rollupRows = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM rollup_hour'))
    .rows[0]!.n;
  console.log(
    `\n\nPostgreSQL 15, ${events.toLocaleString()} feedback events on ${generations.toLocaleString()} generations over ${DAYS} days → ${rollupRows.toLocaleString()} rollup rows`,
  );
  console.log(
    `load (plain INSERTs, triggers on): ${((events + generations) / (loadMs / 1000)).toFixed(0)} rows/s`,
  );
  console.log(
    `rollups: ${(folded / (foldMs / 1000)).toFixed(0)} queued rows/s = ${(events / (foldMs / 1000)).toFixed(0)} feedback events/s (with their generations), ${(foldMs / 1000).toFixed(1)} s in all`,
  );

  const whole = { from: start, to: end };
  const week = { from: new Date(end.getTime() - 7 * 24 * HOUR), to: end };
  const queries: [string, () => Promise<unknown>][] = [
    [`dashboard, all features, ${DAYS} days`, () => readDashboard(db, whole)],
    [
      `dashboard, one feature, ${DAYS} days`,
      () => readDashboard(db, { ...whole, featureId: 'bench-completion' }),
    ],
    ['dashboard, all, last 7 days', () => readDashboard(db, week)],
    [
      'dashboard, one version, last 3 days (hourly)',
      () =>
        readDashboard(db, {
          from: new Date(end.getTime() - 72 * HOUR),
          to: end,
          modelVersionIds: [versions[0]!.id],
        }),
    ],
  ];
  let slowest = 0;
  for (const [name, run] of queries) {
    const ms = await median(run);
    slowest = Math.max(slowest, ms);
    console.log(`${name}: ${ms.toFixed(0)} ms`);
  }
  const RAW_SQL = `
    WITH f AS (
      SELECT "generationId" AS gid, bool_or(type = 'shown') AS shown,
        bool_or(type IN ('accepted', 'accepted_partial')) AS accepted,
        max((payload->>'retainedChars')::float8) FILTER (WHERE type = 'retention' AND payload->>'window' = '2m') AS arc
      FROM feedback_event GROUP BY 1)
    SELECT g."modelVersionId", date_trunc('day', g."createdAt") AS day, count(*) AS opportunities,
      count(*) FILTER (WHERE f.shown) AS shown, count(*) FILTER (WHERE f.shown AND f.accepted) AS accepted,
      sum(f.arc) FILTER (WHERE f.shown) AS arc,
      percentile_disc(0.5) WITHIN GROUP (ORDER BY g."latencyMs") AS p50,
      percentile_disc(0.95) WITHIN GROUP (ORDER BY g."latencyMs") AS p95,
      percentile_disc(0.99) WITHIN GROUP (ORDER BY g."latencyMs") AS p99
    FROM generation g LEFT JOIN f ON f.gid = g.id
    WHERE g."createdAt" >= $1 AND g."createdAt" < $2 AND (g.error IS NULL OR g.error <> 'aborted by the caller')
    GROUP BY 1, 2`;
  const [, rawMs] = await timed(() =>
    pool.query(RAW_SQL, [start.toISOString(), end.toISOString()]),
  );
  console.log(
    `plain SQL over the raw tables, same ${DAYS} days per version and day: ${rawMs.toFixed(0)} ms`,
  );
  console.log(
    `slowest dashboard query ${slowest.toFixed(0)} ms = ${(slowest / rawMs).toFixed(4)}× the plain aggregation (${(rawMs / slowest).toFixed(0)}× faster)`,
  );
} finally {
  await db.$disconnect();
  await pool.end();
  await cluster.stop();
}
