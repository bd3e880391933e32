/**
 * The closed loop's steps, each through the product's public API (/api/v1) while the simulated
 * writers type through the browser's path: baseline on v1, dataset version, distilled v2
 * registered, offline eval, a planted bad candidate rolled back by the guardrail job, and the
 * v2-against-v1 experiment with its verdict. scripts/demo-loop.ts strings them together.
 */
import { armFigures, writePhase, type ArmFigures } from './population';
import type { ProductApi } from './product-api';
import type { Tally, Writer } from './writer';

export interface ModelVersionRow {
  id: string;
  name: string;
  version: string;
  backendModel: string;
  status: string;
  artifactDigest: string | null;
  lineage?: unknown;
}

export interface ExperimentRow {
  id: string;
  name: string;
  status: string;
  version: number;
  rampStep: number;
  coverage: number;
  statusReason: string | null;
  arms: { id: string; name: string; isControl: boolean; modelVersion: { label: string } }[];
}

export interface MetricRow {
  metric: string;
  label: string;
  value: number | null;
  ci: [number, number] | null;
  delta: number | null;
  deltaCi: [number, number] | null;
  adjustedP: number | null;
}

export interface ResultsRow {
  arms: {
    name: string;
    isControl: boolean;
    modelVersion: string;
    units: number;
    suggestions: number;
    latencyP50: number | null;
    latencyP95: number | null;
    metrics: MetricRow[];
  }[];
  verdict: { decision: string; why: string };
}

export interface AuditRow {
  action: string;
  actorType: string;
  after: unknown;
  createdAt: string;
}

export interface StepLog {
  (line: string): void;
}

export async function modelVersion(api: ProductApi, label: string): Promise<ModelVersionRow> {
  const [name, version] = label.split('/');
  const rows = await api.get<ModelVersionRow[]>('/models/versions');
  const row = rows.find((r) => r.name === name && r.version === version);
  if (!row)
    throw new Error(
      `Model version ${label} is not registered (have: ${rows.map((r) => `${r.name}/${r.version}`).join(', ')})`,
    );
  return row;
}

/** Waits until the app lists `label` (the worker serves it and the registry has it). */
export async function waitForModel(
  api: ProductApi,
  label: string,
  timeoutMs = 60_000,
): Promise<ModelVersionRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await modelVersion(api, label);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export function figuresByModel(tally: Tally): Record<string, ArmFigures> {
  return Object.fromEntries([...tally.byModel].map(([model, arm]) => [model, armFigures(arm)]));
}

const pct = (v: number | null | undefined) => (v == null ? '–' : `${(100 * v).toFixed(1)}%`);

export function progressLine(tally: Tally, writers: readonly Writer[] = []): string {
  const states = new Map<string, number>();
  for (const w of writers) states.set(w.state, (states.get(w.state) ?? 0) + 1);
  const who = [...states].map(([s, n]) => `${n} ${s}`).join(', ');
  const parts = [...tally.byModel].map(([model, arm]) => {
    const f = armFigures(arm);
    return `${model}: ${f.requests} answers, ${f.shown} shown, acc ${pct(f.acceptanceRate)}`;
  });
  return `    … ${tally.requests} requests (${tally.aborted} aborted by typing on), ${tally.documents} texts done${who ? ` [writers: ${who}]` : ''}; ${parts.join('; ')}`;
}

export interface ExperimentPlan {
  name: string;
  description: string;
  control: ModelVersionRow;
  treatment: ModelVersionRow;
  treatmentName: string;
  ramp: { coverage: number; minDurationMinutes: number; minUnitsPerArm: number }[];
  guardrails: { metric: string; margin: number; minUnits: number }[];
  /** The assignment seed: the same seed puts the same writers in the same arms. */
  seed: string;
}

export async function createAndStart(
  api: ProductApi,
  plan: ExperimentPlan,
): Promise<ExperimentRow> {
  const created = await api.post<ExperimentRow>('/experiments', {
    featureId: 'inline-completion',
    name: plan.name,
    description: plan.description,
    arms: [
      { name: 'v1', modelVersionId: plan.control.id, weight: 0.5, isControl: true },
      {
        name: plan.treatmentName,
        modelVersionId: plan.treatment.id,
        weight: 0.5,
        isControl: false,
      },
    ],
    ramp: plan.ramp,
    guardrails: plan.guardrails,
    seed: plan.seed,
  });
  return api.post<ExperimentRow>(`/experiments/${created.id}/actions`, {
    expectedVersion: created.version,
    action: 'start',
  });
}

/**
 * Waits until the experiment has left ramp step `from` (the guardrail job advanced it) or stopped
 * running, then until every app instance has its new configuration (they poll it every second),
 * so the writers' next requests are served by the new step whatever the timing. Null when it did
 * not happen within `timeoutMs`.
 */
export async function waitForRampStep(
  api: ProductApi,
  experimentId: string,
  from: number,
  timeoutMs: number,
): Promise<ExperimentRow | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const e = await api.get<ExperimentRow>(`/experiments/${experimentId}`);
    if (e.rampStep !== from || e.status !== 'running') {
      await configReachesApps();
      return e;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return null;
}

/**
 * The apps' experiment configuration is polled every second (experiment-serving.ts); three polls
 * later a change has reached every instance, and a writer's request is served by it.
 */
export const configReachesApps = () => new Promise((r) => setTimeout(r, 3000));

/**
 * Writers write while the experiment runs, until `deadline` or until `stopWhen` says so (checked
 * every second against the experiment as the API shows it); ramp steps and status changes are
 * logged as the guardrail job makes them.
 */
export async function writeDuring(
  api: ProductApi,
  experimentId: string,
  writers: Writer[],
  options: {
    deadline: number;
    log: StepLog;
    stopWhen?: (e: ExperimentRow) => boolean;
    tickMs?: number;
    /** Bounds the phase by work instead of time (the deadline then only guards a stuck run). */
    documentsPerWriter?: number | 'share';
    inTurn?: boolean;
    /** Adds to this tally (an experiment written in parts, one per ramp step). */
    tally?: Tally;
  },
): Promise<{ tally: Tally; experiment: ExperimentRow }> {
  let stop = false;
  let last: ExperimentRow = await api.get<ExperimentRow>(`/experiments/${experimentId}`);
  const watcher = (async () => {
    while (!stop && Date.now() < options.deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      const now = await api.get<ExperimentRow>(`/experiments/${experimentId}`).catch(() => last);
      if (now.rampStep !== last.rampStep || now.status !== last.status)
        options.log(
          `    ramp step ${now.rampStep + 1}, coverage ${pct(now.coverage)}, status ${now.status}${now.statusReason ? ` (${now.statusReason})` : ''}`,
        );
      last = now;
      if (options.stopWhen?.(now)) stop = true;
    }
  })();
  const tally = await writePhase(writers, {
    deadline: options.deadline,
    stop: () => stop,
    documentsPerWriter: options.documentsPerWriter,
    inTurn: options.inTurn,
    tally: options.tally,
    onTick: (t) => options.log(progressLine(t, writers)),
    tickMs: options.tickMs ?? 10_000,
  });
  stop = true;
  await watcher;
  return { tally, experiment: await api.get<ExperimentRow>(`/experiments/${experimentId}`) };
}
