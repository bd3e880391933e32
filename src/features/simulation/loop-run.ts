/**
 * The closed loop's steps, each through the product's public API (/api/v1) or CLI while the
 * simulated writers type through the browser's path. scripts/demo-loop.ts runs them in order:
 * baseline on v1, (while the dataset's watermark settles) a planted bad candidate, then
 * loop-run-model.ts (the dataset version, v2 distilled and registered, the offline eval) and
 * loop-run-experiment.ts (v2 ramped against v1, the verdict).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { figureLines } from './loop-report';
import {
  createAndStart,
  figuresByModel,
  waitForModel,
  writeDuring,
  type AuditRow,
  type ModelVersionRow,
} from './loop-steps';
import type { ArmFigures } from './population';
import type { ProductApi } from './product-api';
import type { Tally, Writer } from './writer';

export interface LoopMode {
  /**
   * Step 1 ends when every writer has written this many texts ('share': each text of their share
   * of the first half once); baselineS only guards it.
   */
  baselineTexts: number | 'share';
  baselineS: number;
  badS: number;
  /**
   * Step 5's texts per writer, one entry per ramp step (the next part starts once the guardrail
   * job has advanced the ramp); experimentS only guards it.
   */
  experimentTexts: number[];
  experimentS: number;
  evalSample: number;
  /** distill.py's recipe (see inference/training/distill.py and the README's closed-loop figures). */
  distill: {
    steps: number;
    batch: number;
    evalPrompts: number;
    lr: number;
    kdWeight: number;
    sftWeight: number;
    /** End the kept text with the stop token, never stop before the first token (its weight). */
    sftStop: boolean;
    noEmptyWeight: number;
  };
  ramp: { coverage: number; minDurationMinutes: number; minUnitsPerArm: number }[];
  minUnits: number;
}

export interface LoopContext {
  api: ProductApi;
  writers: Writer[];
  /**
   * Other people (their own units), who meet the planted bad candidate while the dataset settles:
   * the writers' own place in their texts is then the same at step 5 in every run.
   */
  bystanders: Writer[];
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

export const phaseFacts = (tally: Tally, figures: Record<string, ArmFigures>) => ({
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
    seed: experimentSeed(ctx.seed, 'baseline'),
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

/** An experiment's assignment seed from the run's seed: the same run assigns the same arms. */
export const experimentSeed = (seed: string, purpose: string) =>
  `loop:${seed.replace(/[^\w.:-]/g, '-').slice(0, 60)}:${purpose}`;

export const guardrails = (mode: LoopMode, margin: number) =>
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
    seed: experimentSeed(ctx.seed, 'bad-candidate'),
    ramp: [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }],
    guardrails: guardrails(ctx.mode, 0.02),
  });
  const { experiment } = await writeDuring(ctx.api, e.id, ctx.bystanders, {
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
