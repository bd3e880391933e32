// npm run eval -- --model <name/version> --sample N [--seed S] [--dataset <id or name@version>]
//                 [--feature <id>] [--from <ISO time>] [--to <ISO time>] [--timeout-ms N]
//   Scores a candidate model version offline, now, in this process (the code the eval job runs),
//   with a progress bar, and prints its metrics. Without --dataset it samples stored generations
//   with feedback of the feature (default inline-completion). The candidate is reached through
//   INFERENCE_BACKENDS (default: the worker at WORKER_PORT, as npm start runs it). Uses
//   DATABASE_URL, or the embedded PostgreSQL (the running one under npm start, else started).
import { parseArgs } from 'node:util';
import { PrismaPg } from '@prisma/adapter-pg';
import cliProgress from 'cli-progress';
import { PrismaClient } from '../src/generated/prisma/client';
import { formatMetrics } from '../src/features/evals/format';
import { createEvalRun, runEvalRun } from '../src/features/evals/server/evals-service';
import { BackendPool } from '../src/features/suggestions/server/backend-pool';
import { openDatabase } from '../src/server/db/open-database';
import { loadServerEnv } from '../src/server/env';
import { toPublicError } from '../src/server/errors';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    dataset: { type: 'string' },
    feature: { type: 'string' },
    sample: { type: 'string' },
    seed: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'timeout-ms': { type: 'string' },
  },
});
if (!values.model || !values.sample) {
  console.error(
    'Usage: npm run eval -- --model <name/version> --sample N [--seed S] [--dataset <id or name@version>] [--feature <id>] [--from <ISO>] [--to <ISO>] [--timeout-ms N]',
  );
  process.exit(2);
}

const env = loadServerEnv();
const database = await openDatabase(env, { ifRunning: 'attach', log: () => {} });
const db = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });
const backends =
  env.INFERENCE_BACKENDS.length > 0
    ? env.INFERENCE_BACKENDS
    : [`http://127.0.0.1:${env.WORKER_PORT}`];
const pool = new BackendPool(backends, {
  failureThreshold: env.SUGGEST_BREAKER_FAILURES,
  cooldownMs: env.SUGGEST_BREAKER_COOLDOWN_MS,
});
const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const bar = new cliProgress.SingleBar(
  {
    format: '  scoring [{bar}] {value}/{total} examples  {duration}s',
    stream: process.stderr,
    // Also in a log (CI, a pipe): a line every second instead of a redrawn bar.
    noTTYOutput: true,
    notTTYSchedule: 1000,
  },
  cliProgress.Presets.shades_classic,
);
let status = 0;
try {
  // Created as running: the eval job of a running app never takes it.
  const run = await createEvalRun(
    db,
    { type: 'system', userId: null },
    {
      model: values.model,
      dataset: values.dataset,
      featureId: values.feature,
      sample: number(values.sample) as number,
      seed: values.seed,
      from: values.from,
      to: values.to,
      timeoutMs: number(values['timeout-ms']),
    },
    { running: true },
  );
  console.log(`Eval run ${run.id}`);
  let started = false;
  const metrics = await runEvalRun(db, run.id, {
    pool,
    onProgress: (done, total) => {
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    },
  });
  bar.stop();
  console.log(formatMetrics(metrics));
} catch (error) {
  bar.stop();
  // A 4xx says what to change; a failed run (the backend down) says why in its message.
  const e = toPublicError(error);
  console.error(
    `\n${e.status < 500 ? e.message : error instanceof Error ? error.message : String(error)}`,
  );
  status = 1;
} finally {
  await db.$disconnect();
  await database.stop();
}
process.exit(status);
