// npm run demo:loop -- [--seed S] [--quick] [--writers N] [--phase5 new|repeat] [--serve] [--json FILE]
//                      [--app-url URL --worker-url URL --model-repository DIR] [--admin-email E --admin-password P]
//   The closed loop end to end, each step through the product's own API or CLI, with simulated
//   writers typing held-out texts through the browser's path (src/features/simulation/):
//   1 writers on v1 (flywheel-student/1) · 2 dataset version from their feedback · 3 v2 distilled
//   from the teacher on it (npm run distill) and registered · 4 offline eval v2 vs v1 · 5 a planted
//   bad candidate rolled back by the guardrail job, then v2 ramped against v1 under guardrails ·
//   6 the verdict (promote or roll back). Without --app-url it starts the product itself, the way
//   `npm start` does, on a fresh embedded database in a temporary folder.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WRITER_BEHAVIOUR } from '../src/features/simulation/behaviour';
import { loadHeldoutTexts } from '../src/features/simulation/heldout-texts';
import { learnedFrom, pct, type LoopSummary } from '../src/features/simulation/loop-report';
import {
  baselineOnV1,
  plantedBadCandidate,
  type LoopContext,
  type StepResult,
} from '../src/features/simulation/loop-run';
import { demoMode } from '../src/features/simulation/loop-modes';
import { rampV2, verdict } from '../src/features/simulation/loop-run-experiment';
import {
  datasetFromFeedback,
  distillV2,
  offlineEval,
} from '../src/features/simulation/loop-run-model';
import { waitForModel } from '../src/features/simulation/loop-steps';
import { documentHalves, makePopulation, rotations } from '../src/features/simulation/population';
import { createApiKey, ProductApi, signIn } from '../src/features/simulation/product-api';
import { httpTransport } from '../src/features/simulation/transport';
import { startProduct, type Product } from './loop-product';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    quick: { type: 'boolean', default: false },
    writers: { type: 'string' },
    'patience-scale': { type: 'string', default: '1' },
    phase5: { type: 'string', default: 'new' },
    serve: { type: 'boolean', default: false },
    json: { type: 'string' },
    'app-url': { type: 'string' },
    'worker-url': { type: 'string' },
    'model-repository': { type: 'string' },
    'admin-email': { type: 'string', default: 'admin@loop.local' },
    'admin-password': { type: 'string' },
    'no-build': { type: 'boolean', default: false },
  },
});
if (args['app-url'] && !args['admin-password']) {
  console.error(
    '--app-url needs --admin-email and --admin-password (an account that may make API keys)',
  );
  process.exit(2);
}
if (!['new', 'repeat'].includes(args.phase5)) {
  console.error('--phase5 is "new" (writers go on to texts they have not written) or "repeat"');
  process.exit(2);
}

const MODE = demoMode(args.quick);
const writerCount = Number(args.writers ?? MODE.writers);
/**
 * People's pauses (their patience for a suggestion) times this; 1 is the behaviour model as
 * documented. On a machine whose load makes every answer seconds late, a larger value keeps the
 * writers seeing suggestions at all (the summary records it).
 */
const patienceScale = Number(args['patience-scale']);
const behaviour = {
  ...WRITER_BEHAVIOUR,
  pause: {
    ...WRITER_BEHAVIOUR.pause,
    medianMs: WRITER_BEHAVIOUR.pause.medianMs * patienceScale,
    minMs: WRITER_BEHAVIOUR.pause.minMs * patienceScale,
    maxMs: WRITER_BEHAVIOUR.pause.maxMs * patienceScale,
  },
};
const seed = args.seed;
const started = Date.now();
/**
 * The datasets' settle time: a version holds rows at least this old. The product started here
 * gets the mode's; an app given by --app-url has the default (2 min).
 */
const SETTLE_MS = (args['app-url'] ? 120_000 : MODE.settleMs) + 3_000;
const log = (line: string) => console.log(line);
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

const dir = await mkdtemp(path.join(os.tmpdir(), 'flywheel-loop-'));
// The embedded PostgreSQL runs as the `postgres` user when we are root: it must enter the folder.
await chmod(dir, 0o711);
const password = args['admin-password'] ?? randomBytes(12).toString('base64url');
let product: Product | null = null;
const steps: LoopSummary['steps'] = [];
async function step<T>(name: string, run: () => Promise<StepResult<T>>): Promise<T> {
  const t0 = Date.now();
  log(`\n[${elapsed()}] ${name}`);
  const { result, facts } = await run();
  steps.push({ step: name, seconds: Math.round((Date.now() - t0) / 100) / 10, facts });
  return result;
}

let exitCode = 0;
// Ctrl-C or a kill stops the product this script started, the database last (start.ts does that).
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the product…`);
    void (product?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
try {
  const texts = await loadHeldoutTexts(process.env.FLYWHEEL_PYTHON);
  log(
    `Texts: ${texts.documents.length} held-out documents (${texts.chars} chars) from ${texts.source}`,
  );
  for (const l of texts.licences) log(`  licence: ${l}`);
  log(
    `Writers: ${writerCount}, behaviour model v${WRITER_BEHAVIOUR.version} (src/features/simulation/behaviour.ts), seed ${seed}, patience ×${patienceScale}`,
  );

  if (args['app-url']) {
    product = {
      appUrl: args['app-url'].replace(/\/$/, ''),
      workerUrl: args['worker-url'] ?? 'http://127.0.0.1:8001',
      modelRepository: path.resolve(args['model-repository'] ?? 'inference/models'),
      stop: async () => {},
    };
  } else {
    log(`Starting the product on a fresh embedded database in ${dir} …`);
    product = await startProduct(dir, {
      adminEmail: args['admin-email'],
      adminPassword: password,
      noBuild: args['no-build'],
      guardrailIntervalMs: MODE.guardrailMs,
      datasetSettleMs: MODE.settleMs,
    });
    log(`  ready at ${product.appUrl} in ${elapsed()} (log: ${path.join(dir, 'product.log')})`);
  }
  const p = product;
  const cookie = await signIn(p.appUrl, args['admin-email'], password);
  const apiKey = await createApiKey(p.appUrl, cookie, { name: `demo-loop ${seed}`, role: 'admin' });
  const api = new ProductApi(p.appUrl, apiKey);

  // Writers' texts: half the held-out documents for the baseline, the other half afterwards
  // (--phase5 new: what v2 has never seen; the dataset's eval split is disjoint from its train
  // split too, by writer), or the same again (--phase5 repeat: v2 is then judged on texts it
  // trained on, which shows memorisation, not learning; never the default).
  const halves = documentHalves(texts.documents, seed);
  const [firstTexts, laterTexts] = [
    halves.first,
    args.phase5 === 'new' ? halves.later : halves.first,
  ];
  const transport = httpTransport({ baseUrl: p.appUrl });
  const population = (unitPrefix: string, writerPrefix: string, documents: typeof firstTexts) =>
    makePopulation({
      seed,
      writers: writerCount,
      documents,
      transport,
      featureId: 'inline-completion',
      captureText: true,
      unitPrefix,
      writerPrefix,
      maxInFlight: MODE.maxInFlight,
      params: behaviour,
    });
  const writers = population('loop', 'w', firstTexts);

  const ctx: LoopContext = {
    api,
    writers,
    bystanders: population('loop-bystander', 'b', laterTexts),
    seed,
    mode: MODE,
    log,
    dir,
    workerUrl: p.workerUrl,
    modelRepository: p.modelRepository,
    studentFolder: path.join(root, 'inference/models/flywheel-student/1'),
    // Asynchronous, so Ctrl-C still reaches this script (and stops the product) while it trains.
    distill: (distillArgs) =>
      new Promise((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', 'scripts/distill.ts', ...distillArgs],
          {
            cwd: root,
            stdio: ['ignore', 'pipe', 'inherit'],
            env: { ...process.env, FLYWHEEL_API_KEY: apiKey },
          },
        );
        let stdout = '';
        child.stdout?.on('data', (d: Buffer) => {
          stdout += d.toString();
          // Training progress as it goes, one line per few steps.
          for (const line of d.toString().split('\n'))
            if (/^step \d+\/\d+/.test(line) && Number(/^step (\d+)/.exec(line)?.[1]) % 10 === 0)
              log(`    ${line}`);
        });
        child.once('error', reject);
        child.once('exit', (status) => resolve({ status, stdout }));
      }),
  };
  const v1 = await waitForModel(api, 'flywheel-student/1');
  // v1 is everyone's default from the start (PUT /api/v1/features/:id/default-version): whether a
  // writer's first requests come before the A/A experiment reaches the app's configuration cache
  // then changes nothing (both answer with v1), so step 1's generations do not depend on timing.
  await api.put('/features/inline-completion/default-version', { modelVersionId: v1.id });
  // Warm up the serving path (the app's routes and pools, the worker's v1 session) with a unit
  // that is no writer, so the writers' first suggestions are not fallbacks of a cold start.
  for (let i = 0; i < 3; i++)
    await fetch(`${p.workerUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flywheel-student/1', prompt: 'Thank you for', max_tokens: 4 }),
    }).catch(() => null);
  for (let i = 0, primary = 0; i < 60 && primary < 5; i++) {
    const answer = await transport
      .complete(
        {
          featureId: 'inline-completion',
          unitId: `warm-up-${seed}`,
          textBefore: 'Thank you for your',
          textAfter: '',
        },
        AbortSignal.timeout(10_000),
      )
      .catch(() => null);
    primary =
      answer?.tier === 'primary' && answer.modelVersion === 'flywheel-student/1' ? primary + 1 : 0;
    if (primary === 0) await new Promise((r) => setTimeout(r, 500));
  }
  const baseline = await step('1. Writers use v1 (flywheel-student/1)', () =>
    baselineOnV1(ctx, v1),
  );
  // A dataset version may only include rows older than the datasets' settle time; the
  // planted bad candidate meets other people meanwhile (the bystanders).
  await step('1b. Meanwhile: a planted bad candidate (v1 on an endpoint that is down)', () =>
    plantedBadCandidate(ctx, v1),
  );
  const settleUntil = baseline.to.getTime() + SETTLE_MS;
  if (Date.now() < settleUntil) {
    log(
      `    waiting ${((settleUntil - Date.now()) / 1000).toFixed(0)} s for the dataset watermark to pass step 1`,
    );
    await new Promise((r) => setTimeout(r, settleUntil - Date.now()));
  }
  const dataset = await step('2. Dataset version from that feedback', () =>
    datasetFromFeedback(ctx, { v1, from: baseline.from, to: baseline.to }),
  );
  const distillSeed = parseInt(
    createHash('sha256').update(`distill:${seed}`).digest('hex').slice(0, 7),
    16,
  );
  const v2 = await step('3. v2 distilled from the teacher on that dataset, registered', () =>
    distillV2(ctx, { dataset: `${dataset.name}@${dataset.version.version}`, distillSeed }),
  );
  const datasetRef = `${dataset.name}@${dataset.version.version}`;
  await step("4. Offline eval: v2 against v1 on the dataset's eval split", () =>
    offlineEval(ctx, {
      dataset: datasetRef,
      models: ['flywheel-student/1', `flywheel-student/${v2.row.version}`],
    }),
  );
  // The writers go on to the later texts, each all of them from their own place in one order.
  const later = rotations(laterTexts, seed, writerCount);
  writers.forEach((w, i) => w.writeNext(later[i]!));
  const ramp = await step(
    '5. v2 against v1, ramped up to 50% of writers under guardrails; writers keep writing',
    () => rampV2(ctx, { v1, v2: v2.row, dataset: datasetRef }),
  );
  const decision = await step('6. Verdict', () => verdict(ctx, ramp));

  const summary: LoopSummary = {
    seed,
    mode: args.quick ? 'quick' : 'full',
    behaviourVersion: WRITER_BEHAVIOUR.version,
    patienceScale,
    texts: { source: texts.source, licences: texts.licences, documents: texts.documents.length },
    steps,
    datasetDigest: dataset.version.contentDigest,
    modelDigest: v2.digest,
    decision: decision.decision,
    decisionWhy: decision.why,
    learned: learnedFrom(ramp.results),
    wallSeconds: Math.round((Date.now() - started) / 1000),
  };
  log(
    `\nSummary (seed ${seed}, ${summary.mode}, ${summary.wallSeconds} s, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')})`,
  );
  for (const s of steps) log(`  ${s.step.padEnd(80)} ${s.seconds.toFixed(1).padStart(6)} s`);
  log(
    `  dataset digest  ${summary.datasetDigest}\n  v2 digest       ${summary.modelDigest}\n  decision        ${summary.decision}: ${summary.decisionWhy}`,
  );
  for (const l of summary.learned)
    log(
      `  ${l.metric.padEnd(24)} v1 ${l.v1?.toFixed(4) ?? '–'}  v2 ${l.v2?.toFixed(4) ?? '–'}  Δ ${l.delta?.toFixed(4) ?? '–'}` +
        (l.deltaCi ? ` [${l.deltaCi[0].toFixed(4)}, ${l.deltaCi[1].toFixed(4)}]` : ''),
    );
  log(
    `  baseline acceptance ${pct(baseline.figures['flywheel-student/1']?.acceptanceRate)} (client-side, v1)`,
  );
  await writeFile(path.join(dir, 'summary.json'), JSON.stringify(summary, null, 2));
  if (args.json)
    await writeFile(
      args.json,
      JSON.stringify({ ...summary, appUrl: p.appUrl, adminEmail: args['admin-email'] }, null, 2),
    );
  log(`  summary: ${path.join(dir, 'summary.json')}`);
  if (args.serve && !args['app-url']) {
    log(
      `\nThe console tells the story at ${p.appUrl}/console (${args['admin-email']} / ${password}); Ctrl-C stops it.`,
    );
    await new Promise<void>(() => {}); // until a signal (above) stops the product and exits
  }
} catch (error) {
  console.error(
    `\ndemo:loop failed after ${elapsed()}: ${error instanceof Error ? error.message : String(error)}`,
  );
  exitCode = 1;
} finally {
  await product?.stop();
}
process.exit(exitCode);
