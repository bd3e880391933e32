/**
 * Experiments benchmark. Prints comparable figures, with ratios against a baseline run in the
 * same process:
 *   (1) assignment evaluations per second: the GrowthBook SDK (baseline, `runInlineExperiment`),
 *       our `assignArm` (ranges recomputed per call) and `createAssigner` (ranges computed once,
 *       the request path);
 *   (2) the gateway's added latency per suggestion from arm resolution and exposure logging
 *       (`ExperimentServing.resolve` on a loaded configuration; new units queue an exposure,
 *       repeat units hit the seen-set), p50/p95/p99;
 *   (3) one guardrail evaluation (the job's read + decision) over 1M suggestions with their
 *       feedback on a throwaway PostgreSQL 15 (skip with BENCH_DB=0).
 * Usage: npx tsx bench/assignment-bench.ts (BENCH_EVALS=2000000, BENCH_SUGGESTIONS=1000000).
 * Never a test: nothing here asserts on time.
 */
import { GrowthBookClient } from '@growthbook/growthbook';
import { PrismaPg } from '@prisma/adapter-pg';
import { assignArm, createAssigner } from '../src/features/experiments/assignment';
import { DEFAULT_GUARDRAILS } from '../src/features/experiments/config';
import { evaluateExperiment } from '../src/features/experiments/guardrails';
import { readArmData } from '../src/features/experiments/server/experiment-metrics';
import { foldExperimentQueue } from '../src/features/experiments/server/unit-rollup';
import { ExperimentServing } from '../src/features/experiments/server/experiment-serving';
import { PrismaClient } from '../src/generated/prisma/client';
import { applyMigrations } from '../src/server/db/migrations';
import { startPostgresCluster } from '../src/server/db/postgres-cluster';
import type { Db } from '../src/server/db';

const EVALS = Number(process.env.BENCH_EVALS ?? 2_000_000);
const SUGGESTIONS = Number(process.env.BENCH_SUGGESTIONS ?? 1_000_000);
const log = (msg: string) => console.error(`[bench] ${msg}`);

function rate(label: string, n: number, run: (i: number) => unknown): number {
  // Warm up, then time.
  for (let i = 0; i < Math.min(n, 100_000); i++) run(i);
  const started = performance.now();
  let sink = 0;
  for (let i = 0; i < n; i++) if (run(i) !== null) sink++;
  const seconds = (performance.now() - started) / 1000;
  const perSecond = n / seconds;
  log(`${label}: ${n} evaluations in ${seconds.toFixed(2)} s (${sink} in experiment)`);
  return perSecond;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

function evaluationsPerSecond() {
  const ids = Array.from({ length: 1 << 16 }, (_, i) => `user-${i}-${(i * 2654435761) >>> 0}`);
  const config = { seed: 'bench-seed', weights: [0.5, 0.5], coverage: 0.5 };
  const client = new GrowthBookClient({});
  const experiment = {
    key: 'bench',
    seed: config.seed,
    variations: [0, 1] as [number, number],
    weights: config.weights,
    coverage: config.coverage,
    hashVersion: 2,
  };
  const sdkN = Math.min(EVALS, 500_000);
  const sdk = rate('GrowthBook SDK runInlineExperiment', sdkN, (i) => {
    const r = client.runInlineExperiment(experiment, { attributes: { id: ids[i & 0xffff] } });
    return r.inExperiment ? r.variationId : null;
  });
  const plain = rate('assignArm', EVALS, (i) => assignArm({ ...config, unitId: ids[i & 0xffff]! }));
  const assign = createAssigner(config);
  const pre = rate('createAssigner', EVALS, (i) => assign(ids[i & 0xffff]!));
  return { sdk, plain, pre };
}

/** A database stand-in that serves one live experiment and swallows exposure writes. */
function fakeDb(): Db {
  const experiment = {
    id: 'e1',
    featureId: 'inline-completion',
    salt: 'bench-seed',
    configVersion: 1,
    ramp: [{ coverage: 0.5, minDurationMinutes: 0, minUnitsPerArm: 0 }],
    rampStep: 0,
    arms: ['control', 'treatment'].map((name, i) => ({
      id: `arm-${i}`,
      name,
      isControl: i === 0,
      allocationBp: 5000,
      modelVersion: {
        id: `mv-${i}`,
        name: 'm',
        version: String(i + 1),
        backendModel: `m/${i + 1}`,
      },
    })),
  };
  return {
    $queryRawUnsafe: () => Promise.resolve([{ n: 1, e: 'x', f: 'y' }]),
    $executeRawUnsafe: () => Promise.resolve(0),
    experiment: { findMany: () => Promise.resolve([experiment]) },
    feature: { findMany: () => Promise.resolve([{ id: 'inline-completion', holdoutBp: 500 }]) },
  } as unknown as Db;
}

async function addedLatency() {
  const serving = new ExperimentServing(fakeDb(), { pollMs: 60_000, flushMs: 50 });
  await serving.resolve('inline-completion', 'warm');
  const N = 200_000;
  const measure = async (label: string, unitOf: (i: number) => string) => {
    const samples = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      const t = process.hrtime.bigint();
      await serving.resolve('inline-completion', unitOf(i));
      samples[i] = Number(process.hrtime.bigint() - t) / 1e6;
    }
    samples.sort();
    const row = {
      p50: percentile(samples, 0.5),
      p95: percentile(samples, 0.95),
      p99: percentile(samples, 0.99),
    };
    log(
      `${label}: p50 ${row.p50.toFixed(4)} ms, p95 ${row.p95.toFixed(4)} ms, p99 ${row.p99.toFixed(4)} ms`,
    );
    return row;
  };
  const fresh = await measure('resolve, new units (exposure queued)', (i) => `new-${i}`);
  const repeat = await measure('resolve, repeat units (seen-set hit)', (i) => `new-${i % 1000}`);
  await serving.stop();
  return { fresh, repeat };
}

async function guardrailEvaluation() {
  log('starting a throwaway PostgreSQL 15 cluster');
  const cluster = await startPostgresCluster();
  try {
    await applyMigrations(cluster.url);
    const db: Db = new PrismaClient({ adapter: new PrismaPg({ connectionString: cluster.url }) });
    await db.feature.create({
      data: { id: 'bench-feature', task: 'completion', config: {}, configHash: 'x' },
    });
    const [v1, v2] = await Promise.all(
      ['1', '2'].map((version) =>
        db.modelVersion.create({
          data: { name: 'bench', version, backendModel: `bench/${version}` },
        }),
      ),
    );
    const experiment = await db.experiment.create({
      data: {
        featureId: 'bench-feature',
        name: 'bench',
        salt: 'bench',
        status: 'running',
        startedAt: new Date(),
        stepStartedAt: new Date(),
        ramp: [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }],
        guardrails: DEFAULT_GUARDRAILS,
        arms: {
          create: [
            { name: 'control', isControl: true, modelVersionId: v1!.id, allocationBp: 5000 },
            { name: 'treatment', isControl: false, modelVersionId: v2!.id, allocationBp: 5000 },
          ],
        },
      },
      include: { arms: true },
    });
    const [control, treatment] = experiment.arms.sort((a) => (a.isControl ? -1 : 1));
    const units = Math.max(2, Math.floor(SUGGESTIONS / 8));
    log(`writing ${SUGGESTIONS} suggestions of ${units} units with their feedback`);
    const t0 = performance.now();
    await db.$executeRawUnsafe(
      `INSERT INTO assignment (id, "experimentId", "armId", "unitId", "configVersion")
       SELECT gen_random_uuid()::text, $1, CASE WHEN u % 2 = 0 THEN $2 ELSE $3 END, 'u' || u, 1
       FROM generate_series(1, $4::int) AS u`,
      experiment.id,
      control!.id,
      treatment!.id,
      units,
    );
    await db.$executeRawUnsafe(
      `INSERT INTO generation (id, "featureId", "modelVersionId", "experimentId", "armId", "unitId",
         tier, prompt, output, "latencyMs")
       SELECT 'g' || i, 'bench-feature', CASE WHEN u % 2 = 0 THEN $2 ELSE $3 END, $1,
         CASE WHEN u % 2 = 0 THEN $4 ELSE $5 END, 'u' || u,
         (CASE WHEN random() < 0.05 THEN 'ngram' ELSE 'primary' END)::"Tier", '', '',
         80 + 60 * random()
       FROM (SELECT i, (1 + (i::bigint * 7919) % $6::int)::int AS u FROM generate_series(1, $7::int) AS i) s`,
      experiment.id,
      v1!.id,
      v2!.id,
      control!.id,
      treatment!.id,
      units,
      SUGGESTIONS,
    );
    await db.$executeRawUnsafe(
      `INSERT INTO feedback_event (id, "clientEventId", "generationId", type, payload, "clientTs")
       SELECT gen_random_uuid()::text, gen_random_uuid()::text, g.id, t.type::"FeedbackType",
         CASE WHEN t.type = 'retention' THEN '{"window":"2m","retainedChars":12,"acceptedChars":14,"editDistance":0.1}'::jsonb ELSE '{}'::jsonb END,
         now()
       FROM (SELECT id, random() AS r FROM generation WHERE "experimentId" = $1) x
       JOIN generation g ON g.id = x.id
       CROSS JOIN LATERAL (
         SELECT 'shown' AS type WHERE x.r < 0.8
         UNION ALL SELECT 'accepted' WHERE x.r < 0.25
         UNION ALL SELECT 'retention' WHERE x.r < 0.2
         UNION ALL SELECT 'dismissed' WHERE x.r >= 0.25 AND x.r < 0.4
       ) t
       WHERE g."experimentId" = $1`,
      experiment.id,
    );
    await db.$executeRawUnsafe('ANALYZE');
    const events = await db.feedbackEvent.count();
    log(
      `wrote the data in ${((performance.now() - t0) / 1000).toFixed(1)} s (${events} feedback events)`,
    );
    const scanStarted = performance.now();
    await readArmData(db, experiment.id, experiment.arms, { latency: false, source: 'scan' });
    const scanMs = performance.now() - scanStarted;
    log(`full scan of the suggestions and events: ${scanMs.toFixed(0)} ms`);
    const foldStarted = performance.now();
    const fold = { dequeued: 0 };
    for (;;) {
      const round = await foldExperimentQueue(db);
      fold.dequeued += round.dequeued;
      if (round.drained) break;
    }
    const backlogFoldMs = performance.now() - foldStarted;
    log(
      `folded the backlog of ${fold.dequeued} queued rows in ${backlogFoldMs.toFixed(0)} ms ` +
        `(${((fold.dequeued / backlogFoldMs) * 1000).toFixed(0)} rows/s)`,
    );
    const times: number[] = [];
    let decision = '';
    for (let run = 0; run < 4; run++) {
      const started = performance.now();
      const readings = await readArmData(db, experiment.id, experiment.arms, { latency: false });
      const evaluation = evaluateExperiment({
        status: 'running',
        arms: experiment.arms.map((arm) => {
          const r = readings.find((x) => x.armId === arm.id)!;
          return {
            armId: arm.id,
            name: arm.name,
            isControl: arm.isControl,
            weight: 0.5,
            exposures: r.exposures,
            metrics: r.metrics,
          };
        }),
        guardrails: DEFAULT_GUARDRAILS,
        alpha: 0.05,
        ramp: [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }],
        rampStep: 0,
        stepStartedAt: new Date(),
        now: new Date(),
      });
      times.push(performance.now() - started);
      decision = `${evaluation.decision.kind}; checks ${evaluation.checks.map((c) => `${c.metric}=${c.status}`).join(', ')}`;
    }
    log(`evaluations: ${times.map((t) => t.toFixed(0)).join(', ')} ms; decision ${decision}`);
    await db.$disconnect();
    return { times, events, scanMs, backlogFoldMs, folded: fold.dequeued };
  } finally {
    await cluster.stop();
  }
}

async function main() {
  const evals = evaluationsPerSecond();
  const latency = await addedLatency();
  const fmt = (n: number) => `${(n / 1e6).toFixed(2)} M/s`;
  console.log('\nAssignment evaluations per second (Node, one core)\n');
  const rows: [string, number][] = [
    ['GrowthBook SDK runInlineExperiment (baseline)', evals.sdk],
    ['assignArm (ranges per call)', evals.plain],
    ['createAssigner (request path)', evals.pre],
  ];
  console.log(`| ${'evaluator'.padEnd(45)} | rate      | vs GrowthBook SDK |`);
  console.log(`|${'-'.repeat(47)}|-----------|-------------------|`);
  for (const [label, r] of rows)
    console.log(
      `| ${label.padEnd(45)} | ${fmt(r).padEnd(9)} | ${`×${(r / evals.sdk).toFixed(2)}`.padEnd(17)} |`,
    );
  console.log('\nGateway added latency per suggestion (resolve + exposure logging, in-process)\n');
  console.log('| case                              | p50 ms | p95 ms | p99 ms |');
  console.log('|-----------------------------------|--------|--------|--------|');
  for (const [label, r] of [
    ['new unit (exposure queued)', latency.fresh],
    ['repeat unit (seen-set hit)', latency.repeat],
  ] as const)
    console.log(
      `| ${label.padEnd(33)} | ${r.p50.toFixed(4)} | ${r.p95.toFixed(4)} | ${r.p99.toFixed(4)} |`,
    );
  if (process.env.BENCH_DB !== '0') {
    const g = await guardrailEvaluation();
    const sorted = [...g.times].sort((a, b) => a - b);
    console.log(
      `\nGuardrail evaluation over ${SUGGESTIONS} suggestions and ${g.events} feedback events (PostgreSQL 15): ` +
        `median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} ms of ${g.times.length} (read the per-unit rollup + decide); ` +
        `full scan instead ${g.scanMs.toFixed(0)} ms (×${(g.scanMs / (sorted[Math.floor(sorted.length / 2)] ?? 1)).toFixed(1)}); ` +
        `folding the whole ${g.folded}-row backlog once: ${g.backlogFoldMs.toFixed(0)} ms (the job folds each minute's rows as they come)`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
