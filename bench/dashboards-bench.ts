/**
 * Dashboards benchmark on a real PostgreSQL 15 (a throwaway cluster from the Debian binaries,
 * removed at the end, on error and on Ctrl-C).
 *   triggers: the same seeded traffic (generateTraffic) inserted the way ingest does (multi-row
 *            INSERTs of a few hundred rows) with the rollup triggers on and off, alternated three
 *            times: the triggers' cost on the ingest path, as a ratio
 *   seed:    BENCH_EVENTS feedback events written set-based, in SQL, with the same model of
 *            traffic as generateTraffic (seeded: every draw hashes (seed, generation, draw)); the
 *            queue rows the triggers would write are written in event-time order
 *   rollups: the rollup job folds everything queued (foldOnce, 20k rows a fold); events/s by the
 *            clock, and per CPU-second of PostgreSQL + this process (the machine is shared)
 *   queries: every dashboard query the page makes (readDashboard), median of 3, each against a
 *            plain SQL aggregation of the raw tables computing the same figures over the same
 *            filters (per version and time bucket: counts, acceptance, ARC, p50/p95/p99)
 * Usage: npm run bench:dashboards (BENCH_EVENTS=10000000 feedback events, BENCH_DAYS=30,
 * BENCH_SEED=1). Never a test: nothing here asserts on time.
 */
import os from 'node:os';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../src/generated/prisma/client';
import { foldOnce } from '../src/features/dashboards/server/rollup-job';
import { readDashboard } from '../src/features/dashboards/server/dashboards-service';
import { MAX_RANGE_DAYS, type DashboardFilters } from '../src/features/dashboards/filters';
import {
  generateTraffic,
  seededUuid,
  type TrafficTarget,
} from '../src/features/dashboards/server/traffic';
import { applyMigrations } from '../src/server/db/migrations';
import { startPostgresCluster } from '../src/server/db/postgres-cluster';
import { postgresCpuMs, RAW_SQL, SEED_CHUNK_SQL } from './lib/dashboards-sql';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const SEED = Number(process.env.BENCH_SEED ?? 1);
const HOUR = 3_600_000;
const CHUNK = 250_000;
const BATCH = 20_000;

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const loadAtStart = load();
const cluster = await startPostgresCluster();
const stop = async () => {
  await cluster.stop();
  process.exit(130);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
const port = new URL(cluster.url).port;
const pool = new pg.Pool({ connectionString: cluster.url, max: 4 });
const db = new PrismaClient({ adapter: new PrismaPg({ connectionString: cluster.url, max: 4 }) });

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await fn();
  return [value, performance.now() - t0];
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en');

/** Inserts rows in batches of `batch` with one multi-row INSERT each, as ingest does. */
async function insertRows(
  table: string,
  rows: Record<string, unknown>[],
  casts: Record<string, string>,
  batch: number,
) {
  const columns = Object.keys(casts);
  for (let i = 0; i < rows.length; i += batch) {
    const slice = rows.slice(i, i + batch);
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

const GENERATION_CASTS = {
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
};
const EVENT_CASTS = {
  id: 'text',
  clientEventId: 'text',
  generationId: 'text',
  type: '"FeedbackType"',
  payload: 'jsonb',
  clientTs: 'timestamp',
};
const ROLLUP_TRIGGERS = ['generation_rollup_enqueue', 'feedback_event_rollup_enqueue'];
const TABLE_OF = {
  generation_rollup_enqueue: 'generation',
  feedback_event_rollup_enqueue: 'feedback_event',
};

/** Ingest with and without the rollup triggers (the experiments' triggers stay on in both). */
async function triggerCost(targets: TrafficTarget[], start: Date) {
  const times: Record<'on' | 'off', number[]> = { on: [], off: [] };
  const cpu: Record<'on' | 'off', number[]> = { on: [], off: [] };
  let rows = 0;
  for (let round = 0; round < 3; round++)
    for (const mode of ['on', 'off'] as const) {
      const traffic = generateTraffic(targets, {
        seed: 1_000 + round * 2 + (mode === 'on' ? 0 : 1),
        suggestions: 20_000,
        start,
        spanMs: HOUR,
      });
      const feedback = [...traffic.events, ...traffic.late].map((e) => ({
        ...e,
        id: seededUuid('e', e.clientEventId),
      }));
      for (const t of ROLLUP_TRIGGERS)
        await pool.query(
          `ALTER TABLE ${TABLE_OF[t as keyof typeof TABLE_OF]} ${mode === 'on' ? 'ENABLE' : 'DISABLE'} TRIGGER ${t}`,
        );
      const cpu0 = postgresCpuMs(port);
      const [, ms] = await timed(async () => {
        await insertRows('generation', traffic.generations, GENERATION_CASTS, 200);
        await insertRows('feedback_event', feedback, EVENT_CASTS, 400);
      });
      times[mode].push(ms);
      cpu[mode].push(postgresCpuMs(port) - cpu0);
      rows = traffic.generations.length + feedback.length;
    }
  for (const t of ROLLUP_TRIGGERS)
    await pool.query(`ALTER TABLE ${TABLE_OF[t as keyof typeof TABLE_OF]} ENABLE TRIGGER ${t}`);
  await pool.query(
    'TRUNCATE generation, feedback_event, rollup_queue, experiment_fold_queue CASCADE',
  );
  return {
    on: median(times.on),
    off: median(times.off),
    cpuOn: median(cpu.on),
    cpuOff: median(cpu.off),
    rows,
  };
}

async function fold(totalQueued: number) {
  const cpu0 = postgresCpuMs(port);
  const node0 = process.cpuUsage();
  let folded = 0;
  let lastPrint = 0;
  const [, ms] = await timed(async () => {
    for (;;) {
      const r = await foldOnce(db, { batchSize: BATCH });
      folded += r.claimed;
      if (r.claimed === 0) break;
      if (performance.now() - lastPrint > 10_000) {
        lastPrint = performance.now();
        process.stdout.write(`\rfolded ${fmt(folded)} / ${fmt(totalQueued)} queued rows`);
      }
    }
  });
  const node = process.cpuUsage(node0);
  return {
    folded,
    ms,
    cpuMs: postgresCpuMs(port) - cpu0 + (node.user + node.system) / 1000,
  };
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
  const experiment = await db.experiment.create({
    data: {
      featureId: 'bench-completion',
      name: 'bench v1 vs v2',
      salt: 'bench',
      status: 'completed',
      arms: {
        create: [0, 1].map((i) => ({
          name: i === 0 ? 'control' : 'treatment',
          isControl: i === 0,
          modelVersionId: versions[i]!.id,
          allocationBp: 5000,
        })),
      },
    },
    include: { arms: true },
  });
  const arms = experiment.arms.sort((a, b) => Number(b.isControl) - Number(a.isControl));
  // Feature, version, arm, quality, speed: the same variants in JS (triggers) and SQL (seed).
  const variants = [
    ['bench-completion', versions[0]!.id, arms[0]!.id, 1.0, 1.0],
    ['bench-completion', versions[1]!.id, arms[1]!.id, 1.2, 0.8],
    ['bench-completion', versions[2]!.id, null, 1.4, 0.6],
    ['bench-rewrite', versions[2]!.id, null, 1.0, 0.5],
  ] as const;
  const targets: TrafficTarget[] = ['bench-completion', 'bench-rewrite'].map((featureId) => ({
    featureId,
    variants: variants
      .filter((v) => v[0] === featureId)
      .map(([, modelVersionId, armId, quality, speed]) => ({
        modelVersionId,
        armId,
        quality,
        speed,
      })),
  }));
  const end = new Date(Math.floor(Date.now() / HOUR) * HOUR);
  const span = DAYS * 24 * HOUR;
  const start = new Date(end.getTime() - span);

  const triggers = await triggerCost(targets, start);
  console.log(
    `ingest of ${fmt(triggers.rows)} rows in multi-row INSERTs (median of 3 each): with the rollup triggers ` +
      `${fmt(triggers.on)} ms, ${fmt(triggers.cpuOn)} ms PostgreSQL CPU; without ${fmt(triggers.off)} ms, ` +
      `${fmt(triggers.cpuOff)} ms CPU → ×${(triggers.on / triggers.off).toFixed(2)} by the clock, ` +
      `×${(triggers.cpuOn / triggers.cpuOff).toFixed(2)} in CPU`,
  );

  // Set-based seed, chunk by chunk, until BENCH_EVENTS events are stored.
  const seedClient = await pool.connect();
  let generations = 0;
  let events = 0;
  const [, seedMs] = await timed(async () => {
    // A bulk load: no triggers, no FK checks, no JIT, and the secondary indexes built afterwards
    // (one sort each instead of 10M random insertions); the queue rows are written explicitly.
    await seedClient.query(`SET session_replication_role = replica`);
    await seedClient.query(`SET jit = off`);
    await seedClient.query(`SET maintenance_work_mem = '512MB'`);
    const { rows: indexes } = await seedClient.query<{ name: string; def: string }>(
      `SELECT indexname AS name, indexdef AS def FROM pg_indexes
       WHERE tablename IN ('generation', 'feedback_event', 'rollup_queue') AND indexname NOT LIKE '%_pkey'`,
    );
    for (const { name } of indexes) await seedClient.query(`DROP INDEX "${name}"`);
    await seedClient.query(
      `CREATE TEMP TABLE variant (k int, "featureId" text, "modelVersionId" text, "armId" text, quality float8, speed float8)`,
    );
    for (const [k, v] of variants.entries())
      await seedClient.query('INSERT INTO variant VALUES ($1, $2, $3, $4, $5, $6)', [k, ...v]);
    const chunk = (from: number, to: number, total: number) =>
      seedClient
        .query<{ g: number; e: number }>(SEED_CHUNK_SQL, [
          SEED,
          from,
          to,
          total,
          start.toISOString(),
          span,
        ])
        .then((r) => r.rows[0]!);
    // Events per suggestion from a sample written and rolled back, so the last chunk ends the span.
    await seedClient.query('BEGIN');
    const sample = await chunk(0, 20_000, 20_000);
    await seedClient.query('ROLLBACK');
    const total = Math.ceil(EVENTS / (sample.e / sample.g));
    for (let from = 0; from < total; from += CHUNK) {
      const written = await chunk(from, Math.min(total, from + CHUNK), total);
      generations += written.g;
      events += written.e;
      process.stdout.write(`\rseeded ${fmt(events)} events on ${fmt(generations)} generations`);
    }
    for (const { def } of indexes) await seedClient.query(def);
    await seedClient.query(`SET session_replication_role = origin`);
  });
  seedClient.release();
  console.log(` in ${(seedMs / 1000).toFixed(0)} s (set-based SQL)`);
  await pool.query('VACUUM ANALYZE');

  const queued = generations + events;
  const folding = await fold(queued);
  await pool.query('VACUUM ANALYZE rollup_hour, rollup_day');
  const rollupRows = (
    await pool.query<{ h: number; d: number }>(
      'SELECT (SELECT count(*) FROM rollup_hour)::int AS h, (SELECT count(*) FROM rollup_day)::int AS d',
    )
  ).rows[0]!;
  console.log(
    `\n\nPostgreSQL 15, ${fmt(events)} feedback events on ${fmt(generations)} generations over ${DAYS} days → ` +
      `${fmt(rollupRows.h)} hourly and ${fmt(rollupRows.d)} daily rollup rows`,
  );
  console.log(
    `rollups: ${fmt(folding.folded)} queued rows in ${(folding.ms / 1000).toFixed(0)} s = ` +
      `${fmt(events / (folding.ms / 1000))} feedback events/s by the clock (with their generations); ` +
      `${fmt(events / (folding.cpuMs / 1000))} events per CPU-second of PostgreSQL + the folding process`,
  );

  const week = { from: new Date(end.getTime() - 7 * 24 * HOUR), to: end };
  const whole = { from: start, to: end };
  const queries: [string, DashboardFilters][] = [
    [`all features, ${DAYS} days (daily rows)`, whole],
    [`one feature, ${DAYS} days`, { ...whole, featureId: 'bench-completion' }],
    ['all, last 7 days', week],
    [
      'two versions side by side, 7 days',
      { ...week, modelVersionIds: [versions[0]!.id, versions[1]!.id] },
    ],
    ['one experiment arm, 7 days', { ...week, armId: arms[1]!.id }],
    ['one tier, 7 days', { ...week, tier: 'ngram' }],
    [
      'one version, last 3 days (hourly rows)',
      { from: new Date(end.getTime() - 72 * HOUR), to: end, modelVersionIds: [versions[0]!.id] },
    ],
    [
      `widest allowed range, ${MAX_RANGE_DAYS} days`,
      { from: new Date(end.getTime() - MAX_RANGE_DAYS * 24 * HOUR), to: end },
    ],
  ];
  const results: { name: string; ms: number; rawMs: number }[] = [];
  for (const [name, filters] of queries) {
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) runs.push((await timed(() => readDashboard(db, filters)))[1]);
    const raw = RAW_SQL(filters);
    const [, rawMs] = await timed(() => pool.query(raw.sql, raw.params));
    results.push({ name, ms: median(runs), rawMs });
    console.log(
      `${name.padEnd(42)} rollups ${fmt(median(runs)).padStart(6)} ms   raw tables ${fmt(rawMs).padStart(7)} ms   ×${(rawMs / median(runs)).toFixed(0)} faster`,
    );
  }
  const slowest = results.reduce((a, b) => (b.ms > a.ms ? b : a));
  console.log(
    `slowest dashboard query: ${slowest.name}, ${fmt(slowest.ms)} ms against ${fmt(slowest.rawMs)} ms for the plain aggregation ` +
      `(${(slowest.ms / slowest.rawMs).toFixed(4)}×); every query under 1 s: ${results.every((r) => r.ms < 1000) ? 'yes' : 'NO'}`,
  );
  console.log(
    `load average (1/5/15 min) at start ${loadAtStart}, at end ${load()}; ${os.cpus().length} cores`,
  );
} finally {
  await db.$disconnect();
  await pool.end();
  await cluster.stop();
}
