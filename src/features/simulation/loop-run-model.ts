/**
 * The closed loop's middle steps (after loop-run.ts's baseline): a dataset version of the
 * writers' feedback, v2 distilled on it through `npm run distill` and registered, and the offline
 * eval of v2 against v1 on the dataset's eval split.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { evalLines, type EvalMetricsLike } from './loop-report';
import type { LoopContext, StepResult } from './loop-run';
import { waitForModel, type ModelVersionRow } from './loop-steps';

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
      'What the simulated writers took of each suggestion of v1, or did not take (closed-loop demo).',
    definition: {
      featureId: 'inline-completion',
      modelVersionIds: [input.v1.id],
      from: input.from.toISOString(),
      to: input.to.toISOString(),
      // Unpaired preferences (TRL's KTO columns): each shown suggestion with what the writer took
      // of it (label true) or the suggestion they did not take (label false). distill.py trains on
      // the text taken, ending where they stopped taking it, and takes its prompts from all rows.
      format: 'unpaired-preference',
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
    '--json',
    '--steps',
    String(mode.distill.steps),
    '--batch',
    String(mode.distill.batch),
    '--eval-prompts',
    String(mode.distill.evalPrompts),
    '--lr',
    String(mode.distill.lr),
    '--kd-weight',
    String(mode.distill.kdWeight),
    '--sft-weight',
    String(mode.distill.sftWeight),
    ...(mode.distill.sftStop
      ? ['--sft-stop', '--no-empty-weight', String(mode.distill.noEmptyWeight)]
      : []),
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
  // npm run distill registered it (POST /api/v1/models/versions, retried on a closed connection).
  const out = JSON.parse(lines.at(-1) ?? '{}') as {
    modelVersionId: string;
    name: string;
    version: string;
    digest: string;
    lineage: { eval_divergence?: unknown };
  };
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
