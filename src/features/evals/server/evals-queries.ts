/**
 * Reads for the console and the public API: runs with live progress, and each version's latest
 * offline metrics beside its online ones (from the dashboards domain's rollups), so a team can see
 * whether offline scores predict online acceptance.
 */
import { readDashboard } from '~/features/dashboards/server/dashboards-service';
import type { Db } from '~/server/db';
import { NotFoundError } from '~/server/errors';
import type { EvalConfig } from '../config';
import type { EvalMetrics } from '../run-metrics';
import { modelVersionLabel } from '~/features/models/model-label';

type RunRow = {
  id: string;
  status: string;
  modelVersionId: string;
  datasetVersionId: string | null;
  config: unknown;
  metrics: unknown;
  error: string | null;
  done: number;
  total: number;
  retryOfId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  modelVersion: { name: string; version: string };
};

function sourceLabel(config: EvalConfig): string {
  return config.source.kind === 'dataset'
    ? `${config.source.dataset}@${config.source.version} (eval split)`
    : `generations up to ${config.source.watermark}`;
}

export function runView(r: RunRow) {
  const config = r.config as EvalConfig;
  return {
    id: r.id,
    status: r.status as 'queued' | 'running' | 'succeeded' | 'failed',
    model: { id: r.modelVersionId, label: modelVersionLabel(r.modelVersion) },
    featureId: config.featureId,
    source: sourceLabel(config),
    datasetVersionId: r.datasetVersionId,
    sampleSize: config.sampleSize,
    seed: config.seed,
    config,
    progress: { done: r.done, total: r.total },
    metrics: (r.metrics as EvalMetrics | null) ?? null,
    error: r.error,
    retryOfId: r.retryOfId,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
  };
}
export type EvalRunView = ReturnType<typeof runView>;

const include = { modelVersion: { select: { name: true, version: true } } } as const;

export async function listEvalRuns(db: Db, input: { modelVersionId?: string; limit?: number }) {
  const rows = await db.evalRun.findMany({
    where: input.modelVersionId ? { modelVersionId: input.modelVersionId } : {},
    orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
    take: input.limit ?? 50,
    include,
  });
  return rows.map(runView);
}

export async function getEvalRun(db: Db, id: string) {
  const row = await db.evalRun.findUnique({ where: { id }, include });
  if (!row) throw new NotFoundError(`Eval run "${id}"`);
  return runView(row);
}

const ONLINE_DAYS = 30;

/**
 * Per (feature, version) with a succeeded run: the latest run's offline metrics and the version's
 * online acceptance and ARC over the last 30 days (the dashboards' own definitions and rollups).
 */
export async function offlineVsOnline(db: Db, now = new Date()) {
  const runs = await db.evalRun.findMany({
    where: { status: 'succeeded' },
    orderBy: [{ finishedAt: 'desc' }, { id: 'asc' }],
    take: 200,
    include,
  });
  const latest = new Map<string, EvalRunView>();
  for (const run of runs.map(runView)) {
    const key = `${run.featureId}\u0000${run.model.id}`;
    if (!latest.has(key)) latest.set(key, run);
  }
  const byFeature = new Map<string, EvalRunView[]>();
  for (const run of latest.values())
    byFeature.set(run.featureId, [...(byFeature.get(run.featureId) ?? []), run]);
  const from = new Date(now.getTime() - ONLINE_DAYS * 24 * 3_600_000);
  const rows = [];
  for (const [featureId, list] of byFeature) {
    const ids = [...new Set(list.map((r) => r.model.id))].slice(0, 20);
    const online = await readDashboard(db, { featureId, modelVersionIds: ids, from, to: now });
    for (const run of list) {
      const summary = online.versions.find((v) => v.versionId === run.model.id) ?? null;
      rows.push({
        featureId,
        model: run.model,
        runId: run.id,
        finishedAt: run.finishedAt,
        offline: run.metrics,
        online: summary && {
          opportunities: summary.counts.opportunities,
          shown: summary.counts.shown,
          acceptance: summary.metrics.acceptance,
          arc2m: summary.metrics.arc2m,
          charsPerOpportunity: summary.metrics.charsPerOpportunity,
          serverP50: summary.latency.server.p50,
        },
      });
    }
  }
  return { days: ONLINE_DAYS, rows };
}
