/**
 * The closed loop's steps, each through the product's public API (/api/v1) or CLI while the
 * simulated writers type through the browser's path. scripts/demo-loop.ts runs them in order:
 * baseline on v1, (while the dataset's watermark settles) a planted bad candidate, the dataset
 * version, v2 distilled and registered, the offline eval, v2 ramped against v1, the verdict.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { evalLines, figureLines, resultLines, type EvalMetricsLike } from './loop-report';
import {
  createAndStart,
  figuresByModel,
  waitForModel,
  writeDuring,
  type AuditRow,
  type ExperimentRow,
  type ModelVersionRow,
  type ResultsRow,
} from './loop-steps';
import type { ArmFigures } from './population';
import type { ProductApi } from './product-api';
import type { Tally, Writer } from './writer';

export interface LoopMode {
  /** Step 1 ends when every writer has written this many texts (baselineS only guards it). */
  baselineTexts: number;
  baselineS: number;
  badS: number;
  experimentS: number;
  evalSample: number;
  distill: { steps: number; batch: number; evalPrompts: number; sftWeight: number };
  ramp: { coverage: number; minDurationMinutes: number; minUnitsPerArm: number }[];
  minUnits: number;
}

export interface LoopContext {
  api: ProductApi;
  writers: Writer[];
  seed: string;
  mode: LoopMode;
  log: (line: string) => void;
  /** Where downloaded dataset files go. */
  dir: string;
  workerUrl: string;
  /** The worker's model repository (v2 is written there). */
  modelRepository: string;
  /** v1's folder in the checkout (its flywheel.json has v1's digest). */
  studentFolder: string;
  /** Runs `npm run distill -- <args>`; its stdout and exit status. */
  distill: (args: string[]) => Promise<{ status: number | null; stdout: string }>;
}

export interface StepResult<T> {
  result: T;
  facts: Record<string, unknown>;
}

const phaseFacts = (tally: Tally, figures: Record<string, ArmFigures>) => ({
  requests: tally.requests,
  abortedByTypingOn: tally.aborted,
  events: tally.eventsSent,
  rejected: tally.eventsRejected,
  throttled: tally.throttled,
  texts: tally.documents,
  figures,
});

/** Step 1: every writer on v1, through an A/A experiment (how the product pins a version). */
export async function baselineOnV1(
  ctx: LoopContext,
  v1: ModelVersionRow,
): Promise<StepResult<{ from: Date; to: Date; figures: Record<string, ArmFigures> }>> {
  const from = new Date();
  const e = await createAndStart(ctx.api, {
    name: `Loop ${ctx.seed}: writers on v1`,
    description: 'Closed-loop demo, step 1: every writer served by v1.',
    control: v1,
    treatment: v1,
    treatmentName: 'v1 again',
    ramp: [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }],
    guardrails: [],
  });
  // Bounded by texts, not time, and written in turn: the same seed gives the same generations in
  // the same stored order, so the dataset built from them has the same digest.
  const { tally, experiment } = await writeDuring(ctx.api, e.id, ctx.writers, {
    deadline: Date.now() + ctx.mode.baselineS * 1000,
    log: ctx.log,
    documentsPerWriter: ctx.mode.baselineTexts,
    inTurn: true,
  });
  const to = new Date();
  const control = experiment.arms.find((a) => a.isControl)!;
  await ctx.api.post(`/experiments/${e.id}/actions`, {
    expectedVersion: experiment.version,
    action: 'promote',
    armId: control.id,
    reason: 'v1 is the baseline of the loop',
  });
  const figures = figuresByModel(tally);
  figureLines(figures).forEach(ctx.log);
  return {
    result: { from, to, figures },
    facts: { experimentId: e.id, ...phaseFacts(tally, figures) },
  };
}

const guardrails = (mode: LoopMode, margin: number) =>
  ['fallback_rate', 'latency_p95', 'dismissal_rate', 'acceptance_rate'].map((metric) => ({
    metric,
    margin,
    minUnits: mode.minUnits,
  }));

/**
 * The planted bad candidate: v1's weights registered as served by an endpoint nobody serves, so
 * every call to it fails and falls back. The guardrail job must roll it back by itself.
 */
export async function plantedBadCandidate(
  ctx: LoopContext,
  v1: ModelVersionRow,
): Promise<StepResult<{ status: string }>> {
  const name = 'flywheel-student-remote';
  const label = `${name}/${v1.version}`;
  const digest =
    v1.artifactDigest ??
    (
      JSON.parse(readFileSync(path.join(ctx.studentFolder, 'flywheel.json'), 'utf8')) as {
        digest: string;
      }
    ).digest;
  const bad = await ctx.api
    .post<ModelVersionRow>('/models/versions', {
      name,
      version: v1.version,
      backendModel: label,
      artifactDigest: digest,
      lineage: {
        dataset: {},
        teacher: { model: 'flywheel-teacher/1' },
        student_init: { model: v1.backendModel, digest },
        loss: { beta: 1, mode: 'partition', k: 20 },
        seed: 0,
        steps: 0,
        note: 'v1 deployed on a remote endpoint that does not exist (closed-loop demo)',
      },
    })
    .catch(async (error: Error) => {
      // Registered by an earlier run against the same app: use it.
      if (!/already registered/.test(error.message)) throw error;
      return waitForModel(ctx.api, label);
    });
  const e = await createAndStart(ctx.api, {
    name: `Loop ${ctx.seed}: unreachable candidate`,
    description:
      'Closed-loop demo: a candidate whose backend is down; the guardrail job must roll it back.',
    control: v1,
    treatment: bad,
    treatmentName: 'remote',
    ramp: [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }],
    guardrails: guardrails(ctx.mode, 0.02),
  });
  const { experiment } = await writeDuring(ctx.api, e.id, ctx.writers, {
    deadline: Date.now() + ctx.mode.badS * 1000,
    log: ctx.log,
    stopWhen: (x) => x.status !== 'running',
  });
  const history = await ctx.api.get<AuditRow[]>(`/experiments/${e.id}/history`);
  const system = history.find((h) => h.actorType === 'system') ?? null;
  if (experiment.status === 'running')
    await ctx.api.post(`/experiments/${e.id}/actions`, {
      expectedVersion: experiment.version,
      action: 'kill',
      reason: 'the guardrail job did not roll it back within the step',
    });
  const lastCheck = (await ctx.api.get<{ lastCheck: unknown }>(`/experiments/${e.id}`)).lastCheck;
  ctx.log(
    experiment.status === 'rolled_back'
      ? `    rolled back by the guardrail job: ${experiment.statusReason ?? ''}`
      : `    NOT rolled back by the guardrail job (status ${experiment.status}); last check: ${JSON.stringify(lastCheck).slice(0, 600)}`,
  );
  if (system)
    ctx.log(`    audit: ${system.action} by system: ${JSON.stringify(system.after).slice(0, 400)}`);
  return {
    result: { status: experiment.status },
    facts: {
      experimentId: e.id,
      status: experiment.status,
      reason: experiment.statusReason,
      audit: system,
    },
  };
}

export interface DatasetVersionRow {
  id: string;
  version: number;
  contentDigest: string;
  rowCount: number;
  splits: Record<string, { rows: number; classes: object }>;
  gates: object;
}

/** Step 2: a dataset version of what the writers kept, from step 1's feedback, downloaded. */
export async function datasetFromFeedback(
  ctx: LoopContext,
  input: { v1: ModelVersionRow; from: Date; to: Date },
): Promise<StepResult<{ name: string; version: DatasetVersionRow; folder: string }>> {
  const { api } = ctx;
  let name = `loop-${ctx.seed}`.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
  if ((await api.get<{ name: string }[]>('/datasets')).some((d) => d.name === name))
    name = `${name}-${Date.now()}`;
  await api.post('/datasets', {
    name,
    description:
      'What the simulated writers kept or typed at each suggestion of v1 (closed-loop demo).',
    definition: {
      featureId: 'inline-completion',
      modelVersionIds: [input.v1.id],
      from: input.from.toISOString(),
      to: input.to.toISOString(),
      format: 'prompt-completion',
      seed: ctx.seed,
      evalFraction: 0.3,
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
  const view = await api.get<{ versions: DatasetVersionRow[] }>(`/datasets/${name}`);
  const version = view.versions.find((v) => v.id === done.versionId)!;
  const split = (s: string) =>
    `${s} ${version.splits[s]?.rows ?? 0} ${JSON.stringify(version.splits[s]?.classes ?? {})}`;
  ctx.log(`    ${name} v${version.version}: sha256 ${version.contentDigest}`);
  ctx.log(
    `    ${done.rowsScanned} generations read, ${version.rowCount} rows: ${split('train')}, ${split('eval')}`,
  );
  ctx.log(`    gates: ${JSON.stringify(version.gates)}`);
  const folder = path.join(ctx.dir, `dataset-${name}-v${version.version}`);
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
}

/**
 * Step 3: v2 distilled from the teacher on the dataset version through `npm run distill`'s
 * contract: it resolves the version through the API, writes the next flywheel-student version
 * into the worker's repository, has the worker load it and registers it with its lineage.
 */
export async function distillV2(
  ctx: LoopContext,
  input: { dataset: string; distillSeed: number },
): Promise<StepResult<{ row: ModelVersionRow; digest: string }>> {
  const { mode } = ctx;
  const args = [
    '--dataset',
    input.dataset,
    '--teacher',
    'flywheel-teacher/1',
    '--student',
    path.join(ctx.modelRepository, 'flywheel-student/1'),
    '--name',
    'flywheel-student',
    '--repository',
    ctx.modelRepository,
    '--worker-url',
    ctx.workerUrl,
    '--app-url',
    ctx.api.baseUrl,
    // Registered below: distill.ts's own POST can meet a keep-alive socket the app closed during
    // the minutes of training (EPIPE); ProductApi sends that again.
    '--no-register',
    '--json',
    '--steps',
    String(mode.distill.steps),
    '--batch',
    String(mode.distill.batch),
    '--eval-prompts',
    String(mode.distill.evalPrompts),
    '--sft-weight',
    String(mode.distill.sftWeight),
    '--seed',
    String(input.distillSeed),
  ];
  ctx.log(`    npm run distill -- ${args.join(' ')} (--api-key from FLYWHEEL_API_KEY)`);
  const run = await ctx.distill(args);
  const lines = run.stdout.split('\n').filter(Boolean);
  lines
    .filter((l) => /divergence|wrote|worker load|registered|resumed|stopped/i.test(l))
    .forEach((l) => ctx.log(`    ${l.slice(0, 300)}`));
  if (run.status !== 0)
    throw new Error(`distillation failed (exit ${run.status}):\n${lines.slice(-10).join('\n')}`);
  const out = JSON.parse(lines.at(-1) ?? '{}') as {
    modelVersionId: string;
    name: string;
    version: string;
    digest: string;
    lineage: { eval_divergence?: unknown };
  };
  await ctx.api
    .post('/models/versions', {
      name: out.name,
      version: out.version,
      artifactDigest: out.digest,
      lineage: out.lineage,
    })
    .catch((error: Error) => {
      if (!/already registered/.test(error.message)) throw error;
    });
  const row = await waitForModel(ctx.api, `${out.name}/${out.version}`);
  ctx.log(`    registered ${out.name}/${out.version} (${row.id}), ${out.digest}`);
  return {
    result: { row, digest: out.digest },
    facts: {
      version: `${out.name}/${out.version}`,
      id: row.id,
      digest: out.digest,
      evalDivergence: out.lineage.eval_divergence ?? null,
    },
  };
}

/** Step 4: offline eval of v1 and v2 on the dataset version's eval split. */
export async function offlineEval(
  ctx: LoopContext,
  input: { dataset: string; models: string[] },
): Promise<StepResult<null>> {
  const queued = [];
  for (const model of input.models)
    queued.push({
      model,
      run: await ctx.api.post<{ id: string }>('/evals', {
        model,
        dataset: input.dataset,
        sample: ctx.mode.evalSample,
        seed: ctx.seed,
      }),
    });
  const facts: Record<string, unknown> = {};
  for (const { model, run } of queued) {
    const done = await ctx.api.until<{
      id: string;
      status: string;
      error: string | null;
      metrics: EvalMetricsLike | null;
    }>(`/evals/${run.id}`, (r) => r.status === 'succeeded' || r.status === 'failed', {
      timeoutMs: 600_000,
    });
    if (done.status !== 'succeeded' || !done.metrics) {
      ctx.log(`    ${model}: eval ${done.status}: ${done.error}`);
      facts[model] = { id: done.id, status: done.status, error: done.error };
      continue;
    }
    evalLines(model, done.metrics).forEach(ctx.log);
    const m = done.metrics;
    facts[model] = {
      id: done.id,
      firstWord: m.exactFirstWord,
      exact: m.exactMatch,
      chrf: m.chrf,
      logLikelihoodPerToken: m.logLikelihood.perToken,
    };
  }
  return { result: null, facts };
}

/** Step 5: v2 ramped against v1 under guardrails while the writers keep writing. */
export async function rampV2(
  ctx: LoopContext,
  input: { v1: ModelVersionRow; v2: ModelVersionRow; dataset: string },
): Promise<StepResult<{ experiment: ExperimentRow; results: ResultsRow }>> {
  const e = await createAndStart(ctx.api, {
    name: `Loop ${ctx.seed}: v2 against v1`,
    description: `Closed-loop demo: v2 distilled on dataset ${input.dataset}.`,
    control: input.v1,
    treatment: input.v2,
    treatmentName: 'v2',
    ramp: ctx.mode.ramp,
    guardrails: guardrails(ctx.mode, 0.05),
  });
  const { tally, experiment } = await writeDuring(ctx.api, e.id, ctx.writers, {
    deadline: Date.now() + ctx.mode.experimentS * 1000,
    log: ctx.log,
    stopWhen: (x) => x.status !== 'running',
  });
  const figures = figuresByModel(tally);
  figureLines(figures).forEach(ctx.log);
  const results = await ctx.api.get<ResultsRow>(`/experiments/${e.id}/results`);
  resultLines(results).forEach(ctx.log);
  return {
    result: { experiment, results },
    facts: {
      experimentId: e.id,
      status: experiment.status,
      rampStep: experiment.rampStep,
      verdict: results.verdict,
      arms: results.arms,
      ...phaseFacts(tally, figures),
    },
  };
}

/**
 * Step 6: the product's verdict decides. Ship → promote v2; roll back (or a guardrail already did)
 * → v1 stays; still undecided when the time is up → v1 stays, saying so.
 */
export async function verdict(
  ctx: LoopContext,
  input: { experiment: ExperimentRow; results: ResultsRow },
): Promise<StepResult<{ decision: string; why: string }>> {
  const { experiment: e, results } = input;
  const treatment = e.arms.find((a) => !a.isControl)!;
  let decision: string;
  let why = results.verdict.why;
  if (e.status === 'rolled_back') decision = 'rolled back by a guardrail: v1 stays';
  else if (results.verdict.decision === 'ship') {
    await ctx.api.post(`/experiments/${e.id}/actions`, {
      expectedVersion: e.version,
      action: 'promote',
      armId: treatment.id,
      reason: why,
    });
    decision = 'promoted v2';
  } else {
    if (results.verdict.decision === 'keep running')
      why = `not shown to help at 95% within the time budget: ${why}`;
    await ctx.api.post(`/experiments/${e.id}/actions`, {
      expectedVersion: e.version,
      action: 'kill',
      reason: why,
    });
    decision = 'rolled back: v1 stays';
  }
  ctx.log(`    ${decision}: ${why}`);
  return { result: { decision, why }, facts: { decision, why } };
}
