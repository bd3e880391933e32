/**
 * Offline evals: a request becomes a queued EvalRun with its config recorded (resolved model,
 * source, seed, params, code version); the eval job (or the CLI, at once) runs it: the candidate
 * answers each logged prompt through the OpenAI-compatible API and is scored against what the user
 * kept. A run whose candidate cannot be reached fails with the reason; a retry is a new run with
 * the same config.
 */
import { recordAudit, type Actor } from '~/features/audit/server/audit-service';
import { getDataset } from '~/features/datasets/server/datasets-queries';
import {
  watermarkSettleMs,
  type DatasetsOptions,
} from '~/features/datasets/server/datasets-service';
import { parseModelId } from '~/features/models/server/model-registry-service';
import type { BackendPool } from '~/features/suggestions/server/backend-pool';
import {
  featureConfigHash,
  getFeature,
  type FeatureDeclaration,
} from '~/features/suggestions/server/feature-registry';
import type { Prisma } from '~/generated/prisma/client';
import type { Db } from '~/server/db';
import { DomainError, NotFoundError } from '~/server/errors';
import {
  DEFAULT_FEATURE,
  EVAL_CODE_VERSION,
  evalRequestSchema,
  type EvalConfig,
  type EvalRequestInput,
  type EvalSource,
  type EvalTier,
} from '../config';
import { computeMetrics, type EvalMetrics, type ExampleResult } from '../run-metrics';
import { chrF, editDistanceScore, exactMatch, firstWordMatch } from '../scores';
import { seedOf } from '../summary';
import { Candidate, CandidateUnavailable } from './candidate';
import { hasGenerationExamples, loadExamples } from './eval-examples';

export interface EvalRunOptions {
  /** The backends the candidate is reached through (the gateway's pool in the app). */
  pool: BackendPool;
  datasets?: DatasetsOptions;
  /** Each scored example (the CLI's progress bar); the row's done/total say the same. */
  onProgress?: (done: number, total: number) => void;
  /** Minimum time between progress writes to the row. */
  progressEveryMs?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const versionOrder = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** `name/version` (or `name:version`), a bare name (its newest non-retired version), or an id. */
async function resolveModel(db: Db, ref: string) {
  if (UUID.test(ref)) {
    const byId = await db.modelVersion.findUnique({ where: { id: ref } });
    if (byId) return byId;
  }
  const { name, version } = parseModelId(ref);
  const exact = /[/:]\d/.test(ref)
    ? await db.modelVersion.findUnique({ where: { name_version: { name, version } } })
    : null;
  if (exact) return exact;
  const named = await db.modelVersion.findMany({
    where: { name: ref, status: { not: 'retired' } },
  });
  const newest = named.sort((a, b) => versionOrder(b.version, a.version))[0];
  if (newest) return newest;
  throw new NotFoundError(`Model version "${ref}" (use name/version as in the model registry)`);
}

/** A dataset version by id or `name@version`, with the format and eval rows it offers. */
async function resolveDatasetVersion(
  db: Db,
  ref: string,
): Promise<EvalSource & { kind: 'dataset' }> {
  let datasetRef: string;
  let versionNumber: number | null = null;
  let versionId: string | null = null;
  const at = /^(.+)@(\d+)$/.exec(ref);
  if (at) {
    datasetRef = at[1]!;
    versionNumber = Number(at[2]);
  } else if (UUID.test(ref)) {
    const row = await db.datasetVersion.findUnique({
      where: { id: ref },
      select: { datasetId: true },
    });
    if (!row) throw new NotFoundError(`Dataset version "${ref}"`);
    datasetRef = row.datasetId;
    versionId = ref;
  } else
    throw new DomainError(
      'BAD_REQUEST',
      `Name a dataset version as its id or as name@version (e.g. "${ref}@1")`,
    );
  const dataset = await getDataset(db, datasetRef).catch(() => {
    throw new NotFoundError(`Dataset version "${ref}"`);
  });
  const version = dataset.versions.find((v) =>
    versionId ? v.id === versionId : v.version === versionNumber,
  );
  if (!version) throw new NotFoundError(`Dataset version "${ref}"`);
  if (!['prompt-completion', 'preference', 'unpaired-preference'].includes(dataset.format))
    throw new DomainError(
      'BAD_REQUEST',
      `Dataset "${dataset.name}" is ${dataset.format}: it has no kept text to score against; use a prompt-completion or preference dataset`,
    );
  if (version.splits.eval.rows === 0)
    throw new DomainError(
      'BAD_REQUEST',
      `${dataset.name} v${version.version} has an empty eval split; build it with a larger evalFraction`,
    );
  return {
    kind: 'dataset',
    datasetVersionId: version.id,
    dataset: dataset.name,
    version: version.version,
    format: dataset.format,
    contentDigest: version.contentDigest,
    split: 'eval',
  };
}

function featureOfDataset(definition: unknown): string {
  const id = (definition as { featureId?: unknown } | null)?.featureId;
  return typeof id === 'string' ? id : DEFAULT_FEATURE;
}

function paramsOf(feature: FeatureDeclaration, timeoutMs: number): EvalConfig['params'] {
  return {
    // A rewrite sizes its tokens by the selection, which a logged prompt no longer separates:
    // the feature's cap is used (the model ends a rewrite itself with the closing quote).
    maxTokens: feature.maxTokens,
    stop: [...feature.stop],
    temperature: feature.temperature,
    stopAtSentenceEnd: feature.stopAtSentenceEnd,
    latencyBudgetMs: feature.latencyBudgetMs,
    timeoutMs,
    featureConfigHash: featureConfigHash(feature),
  };
}

/** Validates a request and records its config; 4xx for an unknown model, dataset or feature. */
export async function buildConfig(
  db: Db,
  input: EvalRequestInput,
  now = new Date(),
): Promise<EvalConfig> {
  const request = evalRequestSchema.parse(input);
  const model = await resolveModel(db, request.model);
  let source: EvalSource;
  let featureId: string;
  if (request.dataset) {
    const version = await resolveDatasetVersion(db, request.dataset);
    source = version;
    featureId = featureOfDataset((await getDataset(db, version.dataset)).definition);
    if (request.featureId && request.featureId !== featureId)
      throw new DomainError(
        'BAD_REQUEST',
        `Dataset "${version.dataset}" was built from feature "${featureId}", not "${request.featureId}"`,
      );
  } else {
    featureId = request.featureId ?? DEFAULT_FEATURE;
    getFeature(featureId); // 404 for an unknown feature
    // Generations are written in batches: a watermark this far back has all its rows (as datasets).
    const settleMs = watermarkSettleMs();
    const latest = now.getTime() - settleMs;
    const watermark = new Date(request.to ? Math.min(Date.parse(request.to), latest) : latest);
    const from = request.from ? new Date(request.from) : null;
    if (from && from >= watermark)
      throw new DomainError(
        'BAD_REQUEST',
        `\`from\` must be before ${watermark.toISOString()} (generations of the last ${settleMs / 1000} s may still be arriving)`,
      );
    if (!(await hasGenerationExamples(db, { featureId, from, watermark })))
      throw new DomainError(
        'BAD_REQUEST',
        `No stored generation of "${featureId}"${from ? ` from ${from.toISOString()}` : ''} up to ${watermark.toISOString()} has feedback with a kept text; collect some traffic, widen the range or name a dataset version`,
      );
    source = {
      kind: 'generations',
      from: from?.toISOString() ?? null,
      watermark: watermark.toISOString(),
    };
  }
  return {
    schema: 'flywheel.eval/v1',
    model: {
      id: model.id,
      name: model.name,
      version: model.version,
      backendModel: model.backendModel,
    },
    featureId,
    source,
    sampleSize: request.sample,
    seed: request.seed,
    params: paramsOf(getFeature(featureId), request.timeoutMs),
    logLikelihood: { echo: true, logprobs: 0, max_tokens: 0 },
    code: { evalVersion: EVAL_CODE_VERSION },
  };
}

async function insertRun(
  db: Db,
  actor: Actor,
  config: EvalConfig,
  extra: { retryOfId?: string; running?: boolean; action: string },
) {
  return db.$transaction(async (tx) => {
    const run = await tx.evalRun.create({
      data: {
        modelVersionId: config.model.id,
        datasetVersionId: config.source.kind === 'dataset' ? config.source.datasetVersionId : null,
        config: config as unknown as Prisma.InputJsonValue,
        createdById: actor.userId,
        retryOfId: extra.retryOfId ?? null,
        total: config.sampleSize,
        ...(extra.running ? { status: 'running' as const, startedAt: new Date() } : {}),
      },
    });
    await recordAudit(tx, actor, {
      action: extra.action,
      entityType: 'eval_run',
      entityId: run.id,
      after: { config, retryOfId: extra.retryOfId ?? null },
    });
    return run;
  });
}

/** Queues a run (the job picks it up); `running: true` claims it for the caller (the CLI). */
export async function createEvalRun(
  db: Db,
  actor: Actor,
  input: EvalRequestInput,
  options: { now?: Date; running?: boolean } = {},
) {
  const config = await buildConfig(db, input, options.now);
  return insertRun(db, actor, config, { running: options.running, action: 'eval.create' });
}

/** A new queued run with a failed run's config (same sample, seed and params). */
export async function retryEvalRun(db: Db, actor: Actor, id: string) {
  const run = await db.evalRun.findUnique({ where: { id } });
  if (!run) throw new NotFoundError(`Eval run "${id}"`);
  if (run.status !== 'failed')
    throw new DomainError(
      'CONFLICT',
      `Only a failed run can be retried; this one is ${run.status}`,
    );
  return insertRun(db, actor, run.config as unknown as EvalConfig, {
    retryOfId: run.id,
    action: 'eval.retry',
  });
}

function tierOf(text: string, latencyMs: number, budgetMs: number): EvalTier {
  if (text.trim() === '') return 'empty';
  return latencyMs <= budgetMs ? 'primary' : 'over_budget';
}

/** Runs one claimed run to the end; the row says how it went (and why it failed). */
export async function runEvalRun(
  db: Db,
  id: string,
  options: EvalRunOptions,
): Promise<EvalMetrics> {
  const run = await db.evalRun.findUniqueOrThrow({ where: { id } });
  const config = run.config as unknown as EvalConfig;
  const everyMs = options.progressEveryMs ?? 500;
  await db.evalRun.update({
    where: { id },
    data: { status: 'running', startedAt: run.startedAt ?? new Date(), error: null, done: 0 },
  });
  try {
    const examples = await loadExamples(db, config, options.datasets);
    const total = examples.length;
    await db.evalRun.update({ where: { id }, data: { total } });
    const candidate = new Candidate(options.pool, config);
    await candidate.connect();
    const results: ExampleResult[] = [];
    let llReason: string | null = null;
    let llWorks = false;
    let lastWrite = Date.now();
    for (const example of examples) {
      const answer = await candidate.complete(example.prompt, seedOf(config.seed, example.key));
      // Until one echo succeeds, three refusals in a row mean the backend cannot echo at all.
      const askLl = llWorks || results.length < 3;
      const ll = askLl ? await candidate.keptLikelihood(example.prompt, example.kept) : null;
      if (ll?.ok) llWorks = true;
      else if (ll && !ll.ok) llReason ??= ll.reason;
      results.push({
        key: example.key,
        prompt: example.prompt,
        kept: example.kept,
        candidate: answer.text,
        firstWordMatch: firstWordMatch(answer.text, example.kept),
        exactMatch: exactMatch(answer.text, example.kept),
        chrf: chrF(answer.text, example.kept),
        editDistance: editDistanceScore(answer.text, example.kept),
        latencyMs: answer.latencyMs,
        ttftMs: answer.ttftMs,
        tier: tierOf(answer.text, answer.latencyMs, config.params.latencyBudgetMs),
        backend: answer.backend,
        logLikelihood: ll?.ok ? { total: ll.total, tokens: ll.tokens } : null,
      });
      options.onProgress?.(results.length, total);
      if (Date.now() - lastWrite >= everyMs) {
        lastWrite = Date.now();
        await db.evalRun.update({ where: { id }, data: { done: results.length } });
      }
    }
    const metrics = computeMetrics(results, config.seed, llReason);
    await db.evalRun.update({
      where: { id },
      data: {
        status: 'succeeded',
        done: results.length,
        metrics: metrics as unknown as Prisma.InputJsonValue,
        finishedAt: new Date(),
      },
    });
    return metrics;
  } catch (error) {
    const known = error instanceof CandidateUnavailable || error instanceof DomainError;
    if (!known) console.error(`Eval run ${id} failed:`, error);
    await db.evalRun.update({
      where: { id },
      data: {
        status: 'failed',
        finishedAt: new Date(),
        error: known ? error.message : 'The eval failed; see the server log',
      },
    });
    throw error;
  }
}
