// npm run demo:loop -- [--seed S] [--quick] [--writers N] [--phase5 new|repeat] [--serve] [--json FILE]
//                      [--app-url URL --worker-url URL --model-repository DIR] [--admin-email E --admin-password P]
//   The closed loop end to end, each step through the product's own API or CLI, with simulated
//   writers typing held-out texts through the browser's path (src/features/simulation/):
//   1 writers on v1 (flywheel-student/1) · 2 dataset version from their feedback · 3 v2 distilled
//   from the teacher on it (npm run distill) and registered · 4 offline eval v2 vs v1 · 5 a planted
//   bad candidate rolled back by the guardrail job, then v2 ramped against v1 under guardrails ·
//   6 the verdict (promote or roll back). Without --app-url it starts the product itself, the way
//   `npm start` does, on a fresh embedded database in a temporary folder.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WRITER_BEHAVIOUR } from '../src/features/simulation/behaviour';
import { loadHeldoutTexts } from '../src/features/simulation/heldout-texts';
import {
  evalLines,
  figureLines,
  learnedFrom,
  pct,
  resultLines,
  type EvalMetricsLike,
  type LoopSummary,
} from '../src/features/simulation/loop-report';
import {
  createAndStart,
  figuresByModel,
  waitForModel,
  writeDuring,
  type AuditRow,
  type ExperimentRow,
  type ModelVersionRow,
  type ResultsRow,
} from '../src/features/simulation/loop-steps';
import { deal, makePopulation } from '../src/features/simulation/population';
import { createApiKey, ProductApi, signIn } from '../src/features/simulation/product-api';
import { seededOrder } from '../src/features/simulation/random';
import { httpTransport } from '../src/features/simulation/transport';
import { stopService } from './processes';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    quick: { type: 'boolean', default: false },
    writers: { type: 'string' },
    phase5: { type: 'string', default: 'new' },
    serve: { type: 'boolean', default: false },
    json: { type: 'string' },
    'app-url': { type: 'string' },
    'worker-url': { type: 'string' },
    'model-repository': { type: 'string' },
    'admin-email': { type: 'string', default: 'admin@loop.local' },
    'admin-password': { type: 'string' },
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

/** Durations and sizes; quick fits CI (≤ 3 min), full fits 20 min on a 2-core machine. */
const MODE = args.quick
  ? {
      writers: 16,
      maxInFlight: 4,
      baselineS: 25,
      distill: { steps: 6, batch: 4, evalPrompts: 6 },
      evalSample: 20,
      badS: 40,
      experimentS: 40,
      ramp: [
        { coverage: 0.2, minDurationMinutes: 0, minUnitsPerArm: 1 },
        { coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 },
      ],
      minUnits: 4,
      guardrailMs: 2000,
    }
  : {
      writers: 40,
      maxInFlight: 6,
      baselineS: 240,
      distill: { steps: 150, batch: 8, evalPrompts: 32 },
      evalSample: 300,
      badS: 120,
      experimentS: 300,
      ramp: [
        { coverage: 0.2, minDurationMinutes: 1, minUnitsPerArm: 3 },
        { coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 },
      ],
      minUnits: 10,
      guardrailMs: 5000,
    };
const writerCount = Number(args.writers ?? MODE.writers);
const seed = args.seed;
const started = Date.now();
const log = (line: string) => console.log(line);
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface Product {
  appUrl: string;
  workerUrl: string;
  modelRepository: string;
  stop(): Promise<void>;
}

/** The product as `npm start` runs it, on a fresh embedded database in `dir`. */
async function startProduct(dir: string, password: string): Promise<Product> {
  const [port, workerPort] = [await freePort(), await freePort()];
  const modelRepository = path.join(dir, 'models');
  // The demo models, copied: the distilled v2 is written next to v1 without touching the checkout.
  for (const model of ['flywheel-teacher/1', 'flywheel-student/1'])
    await cp(path.join(root, 'inference/models', model), path.join(modelRepository, model), {
      recursive: true,
    });
  const logFile = path.join(dir, 'product.log');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: '',
      INFERENCE_BACKENDS: '',
      PORT: String(port),
      APP_URL: `http://127.0.0.1:${port}`,
      WORKER_PORT: String(workerPort),
      EMBEDDED_DATABASE_DIR: path.join(dir, 'postgres'),
      MODEL_REPOSITORY: modelRepository,
      ADMIN_EMAIL: args['admin-email'],
      ADMIN_PASSWORD: password,
      BETTER_AUTH_SECRET: randomBytes(32).toString('base64url'),
      ALLOW_ANONYMOUS_WRITE: '1',
      GUARDRAIL_INTERVAL_MS: String(MODE.guardrailMs),
      // Simulated writers type hours of text in minutes, all from this machine's address.
      RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
      RATE_LIMIT_PER_UNIT_PER_MINUTE: '100000',
      GENERATIONS_PER_UNIT_PER_MINUTE: '100000',
    },
  });
  const out = createWriteStream(logFile);
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const appUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null)
      throw new Error(`the product stopped while starting; see ${logFile}`);
    const ok = await fetch(`${appUrl}/sign-in`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 4 * 60 * 20)
      throw new Error(`the product did not start within 20 minutes; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    appUrl,
    workerUrl: `http://127.0.0.1:${workerPort}`,
    modelRepository,
    stop: () => stopService(child, 15_000),
  };
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'flywheel-loop-'));
// The embedded PostgreSQL runs as the `postgres` user when we are root: it must enter the folder.
await chmod(dir, 0o711);
const password = args['admin-password'] ?? randomBytes(12).toString('base64url');
let product: Product | null = null;
const steps: LoopSummary['steps'] = [];
async function step<T>(
  name: string,
  run: () => Promise<{ result: T; facts: Record<string, unknown> }>,
) {
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
  const texts = await loadHeldoutTexts();
  log(
    `Texts: ${texts.documents.length} held-out documents (${texts.chars} chars) from ${texts.source}`,
  );
  for (const l of texts.licences) log(`  licence: ${l}`);
  log(
    `Writers: ${writerCount}, behaviour model v${WRITER_BEHAVIOUR.version} (src/features/simulation/behaviour.ts), seed ${seed}`,
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
    product = await startProduct(dir, password);
    log(`  ready at ${product.appUrl} in ${elapsed()} (log: ${path.join(dir, 'product.log')})`);
  }
  const p = product;
  const cookie = await signIn(p.appUrl, args['admin-email'], password);
  const api = new ProductApi(
    p.appUrl,
    await createApiKey(p.appUrl, cookie, { name: `demo-loop ${seed}`, role: 'admin' }),
  );

  // Writers' texts: half the held-out documents for the baseline, the other half afterwards
  // (--phase5 new: what v2 has never seen), or the same again (--phase5 repeat).
  const ordered = seededOrder(texts.documents, `${seed}:halves`, (d) => d.id);
  const half = Math.ceil(ordered.length / 2);
  const [firstTexts, laterTexts] = [
    ordered.slice(0, half),
    args.phase5 === 'new' ? ordered.slice(half) : ordered.slice(0, half),
  ];
  const transport = httpTransport({ baseUrl: p.appUrl });
  const writers = makePopulation({
    seed,
    writers: writerCount,
    documents: firstTexts,
    transport,
    featureId: 'inline-completion',
    captureText: true,
    unitPrefix: 'loop',
    maxInFlight: MODE.maxInFlight,
  });

  const v1 = await waitForModel(api, 'flywheel-student/1');
  const baseline = await step('1. Writers use v1 (flywheel-student/1)', async () => {
    // An A/A experiment over every unit is how the product pins a feature to one version.
    const e = await createAndStart(api, {
      name: `Loop ${seed}: writers on v1`,
      description: 'Closed-loop demo, step 1: every writer served by v1.',
      control: v1,
      treatment: v1,
      treatmentName: 'v1 again',
      ramp: [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }],
      guardrails: [],
    });
    const { tally, experiment } = await writeDuring(api, e.id, writers, {
      deadline: Date.now() + MODE.baselineS * 1000,
      log,
    });
    const control = experiment.arms.find((a) => a.isControl)!;
    await api.post(`/experiments/${e.id}/actions`, {
      expectedVersion: experiment.version,
      action: 'promote',
      armId: control.id,
      reason: 'v1 is the baseline of the loop',
    });
    const figures = figuresByModel(tally);
    figureLines(figures).forEach(log);
    return {
      result: { tally, figures },
      facts: {
        experimentId: e.id,
        requests: tally.requests,
        aborted: tally.aborted,
        events: tally.eventsSent,
        rejected: tally.eventsRejected,
        texts: tally.documents,
        figures,
      },
    };
  });

  const dataset = await step('2. Dataset version from that feedback', async () => {
    let name = `loop-${seed}`.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
    const existing = await api.get<{ name: string }[]>('/datasets');
    if (existing.some((d) => d.name === name)) name = `${name}-${Date.now()}`;
    await api.post('/datasets', {
      name,
      description:
        'What the simulated writers kept or typed at each suggestion (closed-loop demo).',
      definition: {
        featureId: 'inline-completion',
        modelVersionIds: [v1.id],
        format: 'prompt-completion',
        seed,
        evalFraction: 0.2,
      },
    });
    const build = await api.post<{ id: string }>(`/datasets/${name}/builds`);
    const done = await api.until<{
      status: string;
      versionId: string | null;
      error: string | null;
      rowsScanned: number;
    }>(`/datasets/builds/${build.id}`, (b) => b.status === 'succeeded' || b.status === 'failed', {
      timeoutMs: 300_000,
    });
    if (done.status !== 'succeeded' || !done.versionId)
      throw new Error(`dataset build failed: ${done.error}`);
    const view = await api.get<{
      versions: {
        id: string;
        version: number;
        contentDigest: string;
        rowCount: number;
        splits: Record<string, { rows: number; classes: object }>;
        gates: object;
      }[];
    }>(`/datasets/${name}`);
    const version = view.versions.find((v) => v.id === done.versionId)!;
    log(`    ${name} v${version.version}: sha256 ${version.contentDigest}`);
    log(
      `    ${done.rowsScanned} generations read, ${version.rowCount} rows: train ${version.splits.train?.rows} ${JSON.stringify(version.splits.train?.classes)}, eval ${version.splits.eval?.rows} ${JSON.stringify(version.splits.eval?.classes)}`,
    );
    log(`    gates: ${JSON.stringify(version.gates)}`);
    const folder = path.join(dir, `dataset-${name}-v${version.version}`);
    await mkdir(folder, { recursive: true });
    for (const file of ['train.jsonl', 'eval.jsonl', 'manifest.json', 'README.md'])
      await writeFile(path.join(folder, file), await api.datasetFile(version.id, file));
    return {
      result: { name, version, folder },
      facts: {
        name,
        version: version.version,
        versionId: version.id,
        digest: version.contentDigest,
        rows: version.rowCount,
        splits: version.splits,
        gates: version.gates,
      },
    };
  });

  const v2 = await step(
    '3. v2 distilled from the teacher on that dataset, registered',
    async () => {
      const versions = (await api.get<ModelVersionRow[]>('/models/versions')).filter(
        (m) => m.name === 'flywheel-student',
      );
      const next = String(
        Math.max(...versions.map((m) => Number(m.version.split('.')[0]) || 0)) + 1,
      );
      const out = path.join(p.modelRepository, 'flywheel-student', next);
      const distillSeed = parseInt(
        createHash('sha256').update(`distill:${seed}`).digest('hex').slice(0, 7),
        16,
      );
      const cmd = [
        '--import',
        'tsx',
        'scripts/distill.ts',
        '--dataset',
        dataset.folder,
        '--teacher-url',
        `${p.workerUrl}/v1`,
        '--teacher',
        'flywheel-teacher/1',
        '--student',
        path.join(root, 'inference/models/flywheel-student/1'),
        '--out',
        out,
        '--worker-url',
        p.workerUrl,
        '--steps',
        String(MODE.distill.steps),
        '--batch',
        String(MODE.distill.batch),
        '--eval-prompts',
        String(MODE.distill.evalPrompts),
        '--seed',
        String(distillSeed),
      ];
      log(`    npm run distill -- ${cmd.slice(3).join(' ')}`);
      const run = spawnSync(process.execPath, cmd, {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const lines = (run.stdout ?? '').split('\n').filter(Boolean);
      lines
        .filter((l) => /eval divergence|wrote|worker load|resumed|stopped/.test(l))
        .forEach((l) => log(`    ${l}`));
      if (run.status !== 0)
        throw new Error(
          `distillation failed (exit ${run.status}):\n${lines.slice(-10).join('\n')}`,
        );
      const meta = JSON.parse(readFileSync(path.join(out, 'flywheel.json'), 'utf8')) as {
        digest: string;
        lineage: Record<string, unknown>;
      };
      const lineage = {
        ...meta.lineage,
        dataset: {
          ...(meta.lineage.dataset as object),
          id: dataset.version.id,
          name: dataset.name,
          version: dataset.version.version,
          contentDigest: dataset.version.contentDigest,
        },
        student_init: {
          ...(meta.lineage.student_init as object),
          model: v1.backendModel,
          digest: v1.artifactDigest,
        },
      };
      await api
        .post('/models/versions', {
          name: 'flywheel-student',
          version: next,
          artifactDigest: meta.digest,
          lineage,
        })
        .catch((error: Error) => {
          if (!/already registered/.test(error.message)) throw error;
        });
      const row = await waitForModel(api, `flywheel-student/${next}`);
      log(`    registered flywheel-student/${next} (${row.id}), ${meta.digest}`);
      return {
        result: { row, digest: meta.digest, lineage },
        facts: {
          version: `flywheel-student/${next}`,
          id: row.id,
          digest: meta.digest,
          evalDivergence: (meta.lineage as { eval_divergence?: unknown }).eval_divergence,
        },
      };
    },
  );

  await step("4. Offline eval: v2 against v1 on the dataset's eval split", async () => {
    const queue = (model: string) =>
      api.post<{ id: string }>('/evals', {
        model,
        dataset: `${dataset.name}@${dataset.version.version}`,
        sample: MODE.evalSample,
        seed,
      });
    const runs = [
      [v1.backendModel, await queue('flywheel-student/1')],
      [`flywheel-student/${v2.row.version}`, await queue(`flywheel-student/${v2.row.version}`)],
    ] as const;
    const facts: Record<string, unknown> = {};
    for (const [model, run] of runs) {
      const done = await api.until<{
        status: string;
        error: string | null;
        metrics: EvalMetricsLike | null;
        id: string;
      }>(`/evals/${run.id}`, (r) => r.status === 'succeeded' || r.status === 'failed', {
        timeoutMs: 600_000,
      });
      if (done.status !== 'succeeded' || !done.metrics) {
        log(`    ${model}: eval ${done.status}: ${done.error}`);
        facts[model] = { status: done.status, error: done.error };
        continue;
      }
      evalLines(model, done.metrics).forEach(log);
      facts[model] = {
        id: done.id,
        firstWord: done.metrics.exactFirstWord,
        exact: done.metrics.exactMatch,
        chrf: done.metrics.chrf,
        logLikelihoodPerToken: done.metrics.logLikelihood.perToken,
      };
    }
    return { result: null, facts };
  });

  // Writers go on to their later texts for both experiments.
  const later = deal(laterTexts, seed, writerCount);
  writers.forEach((w, i) => w.writeNext(later[i]!));
  const guardrails = (margin: number) =>
    ['fallback_rate', 'latency_p95', 'dismissal_rate', 'acceptance_rate'].map((metric) => ({
      metric,
      margin,
      minUnits: MODE.minUnits,
    }));

  await step('5a. A planted bad candidate: v2 on a backend nobody serves', async () => {
    // The same weights as v2, registered as served by an endpoint that does not exist: every call fails.
    const name = 'flywheel-student-remote';
    const bad = await api
      .post<ModelVersionRow>('/models/versions', {
        name,
        version: v2.row.version,
        backendModel: `${name}/${v2.row.version}`,
        artifactDigest: v2.digest,
        lineage: v2.lineage,
      })
      .catch(async () => waitForModel(api, `${name}/${v2.row.version}`));
    const e = await createAndStart(api, {
      name: `Loop ${seed}: unreachable candidate`,
      description:
        'Closed-loop demo: a candidate whose backend is down; the guardrail job must roll it back.',
      control: v1,
      treatment: bad,
      treatmentName: 'remote v2',
      ramp: [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }],
      guardrails: guardrails(0.02),
    });
    const { experiment } = await writeDuring(api, e.id, writers, {
      deadline: Date.now() + MODE.badS * 1000,
      log,
      stopWhen: (x) => x.status !== 'running',
    });
    const history = await api.get<AuditRow[]>(`/experiments/${e.id}/history`);
    const system = history.find((h) => h.actorType === 'system');
    if (experiment.status === 'running')
      await api.post(`/experiments/${e.id}/actions`, {
        expectedVersion: experiment.version,
        action: 'kill',
        reason: 'the guardrail job did not roll it back within the step',
      });
    log(
      `    ${experiment.status === 'rolled_back' ? 'rolled back by the guardrail job' : `NOT rolled back (status ${experiment.status})`}: ${experiment.statusReason ?? ''}`,
    );
    if (system)
      log(
        `    audit: ${system.action} by system at ${system.createdAt}: ${JSON.stringify(system.after).slice(0, 300)}`,
      );
    return {
      result: null,
      facts: {
        experimentId: e.id,
        status: experiment.status,
        reason: experiment.statusReason,
        audit: system ?? null,
      },
    };
  });

  const verdict = await step(
    '5b. v2 against v1, ramped 10% → 50% under guardrails, writers keep writing',
    async () => {
      const e = await createAndStart(api, {
        name: `Loop ${seed}: v2 against v1`,
        description: `Closed-loop demo: v2 distilled on dataset ${dataset.name} v${dataset.version.version}.`,
        control: v1,
        treatment: v2.row,
        treatmentName: 'v2',
        ramp: MODE.ramp,
        guardrails: guardrails(0.05),
      });
      const { tally, experiment } = await writeDuring(api, e.id, writers, {
        deadline: Date.now() + MODE.experimentS * 1000,
        log,
        stopWhen: (x) => x.status !== 'running',
      });
      figureLines(figuresByModel(tally)).forEach(log);
      const results = await api.get<ResultsRow>(`/experiments/${e.id}/results`);
      resultLines(results).forEach(log);
      return {
        result: { e: experiment, results, tally },
        facts: {
          experimentId: e.id,
          status: experiment.status,
          verdict: results.verdict,
          arms: results.arms,
          client: figuresByModel(tally),
        },
      };
    },
  );

  const decision = await step('6. Verdict', async () => {
    const { e, results } = verdict;
    const treatment = e.arms.find((a) => !a.isControl)!;
    let decision: string;
    let why = results.verdict.why;
    if (e.status === 'rolled_back') decision = 'rolled back (guardrail)';
    else if (results.verdict.decision === 'ship') {
      await api.post(`/experiments/${e.id}/actions`, {
        expectedVersion: e.version,
        action: 'promote',
        armId: treatment.id,
        reason: why,
      });
      decision = 'promoted v2';
    } else {
      if (results.verdict.decision === 'keep running')
        why = `not shown to help at 95% within the time budget: ${why}`;
      await api.post<ExperimentRow>(`/experiments/${e.id}/actions`, {
        expectedVersion: e.version,
        action: 'kill',
        reason: why,
      });
      decision = 'rolled back: v1 stays';
    }
    log(`    ${decision}: ${why}`);
    return { result: { decision, why }, facts: { decision, why } };
  });

  const summary: LoopSummary = {
    seed,
    mode: args.quick ? 'quick' : 'full',
    behaviourVersion: WRITER_BEHAVIOUR.version,
    texts: { source: texts.source, licences: texts.licences, documents: texts.documents.length },
    steps,
    datasetDigest: dataset.version.contentDigest,
    modelDigest: v2.digest,
    decision: decision.decision,
    decisionWhy: decision.why,
    learned: learnedFrom(verdict.results),
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
      `  ${l.metric.padEnd(24)} v1 ${l.v1?.toFixed(4) ?? '–'}  v2 ${l.v2?.toFixed(4) ?? '–'}  Δ ${l.delta?.toFixed(4) ?? '–'}`,
    );
  log(
    `  baseline acceptance ${pct(Object.values(baseline.figures)[0]?.acceptanceRate)} (client-side, v1)`,
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
