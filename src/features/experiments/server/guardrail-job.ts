/**
 * The guardrail job: every interval, each live experiment is claimed by one app instance, read,
 * judged by `evaluateExperiment`, and acted on in the same transaction: roll back on a crossed
 * guardrail, hold (pause) on a sample-ratio mismatch, or move to the next ramp step. Every action
 * is audited with actor `system`. Failures are logged and retried at the next round; serving
 * never waits on this job.
 *
 * The claim is `FOR NO KEY UPDATE SKIP LOCKED` on the experiment's row, only when its last check
 * is older than the interval. Not `FOR UPDATE`: every Generation and exposure insert of a live
 * experiment holds `FOR KEY SHARE` on its row (the foreign-key check) until it commits, which
 * `FOR UPDATE` conflicts with; under steady traffic the claim then skipped the row round after
 * round (a bad arm went unchecked) and the inserts waited for the check. `NO KEY UPDATE` still
 * excludes another instance's claim and every status change (an UPDATE takes the same lock).
 */
import { recordAudit, type Actor } from '~/features/audit/server/audit-service';
import type { Prisma } from '~/generated/prisma/client';
import type { Db } from '~/server/db';
import { storedGuardrails, storedRamp } from '../config';
import { describeRollback, evaluateExperiment, type Evaluation } from '../guardrails';
import { readArmDataIn } from './experiment-metrics';
import { experimentInclude, toView, type ExperimentView } from './experiment-view';
import { foldExperimentQueue } from './unit-rollup';

const SYSTEM: Actor = { type: 'system', userId: null };

export interface GuardrailJobOptions {
  db: Db;
  /** How often each live experiment is checked (default one minute). */
  intervalMs?: number;
  now?: () => Date;
  log?: (message: string) => void;
}

export interface CheckOutcome {
  experimentId: string;
  action: 'rollback' | 'hold' | 'advance' | 'none';
  evaluation: Evaluation;
}

const include = experimentInclude;

function auditView(view: ExperimentView) {
  return {
    version: view.version,
    status: view.status,
    rampStep: view.rampStep,
    coverage: view.coverage,
    statusReason: view.statusReason,
  };
}

export function createGuardrailJob(options: GuardrailJobOptions) {
  const { db } = options;
  const intervalMs = options.intervalMs ?? 60_000;
  const tickMs = Math.min(intervalMs, 10_000);
  // Due half a tick early: the previous check's clock was read after that round's fold, so with a
  // tick as long as the interval (GUARDRAIL_INTERVAL_MS ≤ 10 s) a round whose fold was quicker
  // found it not yet due and the experiment waited a whole extra tick.
  const dueAfterMs = intervalMs - tickMs / 2;
  const clock = options.now ?? (() => new Date());
  const log = options.log ?? ((message: string) => console.warn(message));

  /** Claims and checks one due experiment; null when none is due (or all are claimed). */
  async function checkNext(): Promise<CheckOutcome | null> {
    const now = clock();
    const cutoff = new Date(now.getTime() - dueAfterMs);
    return db.$transaction(
      async (tx) => {
        const claimed = await tx.$queryRawUnsafe<{ id: string }[]>(
          `SELECT id FROM experiment
           WHERE status IN ('running', 'paused') AND ("lastCheckedAt" IS NULL OR "lastCheckedAt" <= $1)
           ORDER BY "lastCheckedAt" ASC NULLS FIRST
           LIMIT 1
           FOR NO KEY UPDATE SKIP LOCKED`,
          cutoff,
        );
        const id = claimed[0]?.id;
        if (!id) return null;
        const row = await tx.experiment.findUniqueOrThrow({ where: { id }, include });
        const before = toView(row);
        const readings = await readArmDataIn(tx, id, row.arms, { latency: false });
        const evaluation = evaluateExperiment({
          status: before.status as 'running' | 'paused',
          arms: row.arms.map((arm) => {
            const r = readings.find((x) => x.armId === arm.id);
            return {
              armId: arm.id,
              name: arm.name,
              isControl: arm.isControl,
              weight: arm.allocationBp / 10_000,
              exposures: r?.exposures ?? 0,
              metrics: r!.metrics,
            };
          }),
          guardrails: storedGuardrails(row.guardrails),
          alpha: row.alpha,
          ramp: storedRamp(row.ramp),
          rampStep: row.rampStep,
          stepStartedAt: row.stepStartedAt,
          now,
          tuning: row.sequentialTuning,
        });
        const { decision } = evaluation;
        const lastCheck = {
          at: now.toISOString(),
          decision:
            decision.kind === 'continue'
              ? { kind: 'continue', note: decision.note }
              : decision.kind === 'advance'
                ? { kind: 'advance', toStep: decision.toStep }
                : decision.kind === 'hold'
                  ? { kind: 'hold', srm: decision.srm }
                  : { kind: 'rollback', metric: decision.check.metric, arm: decision.check.arm },
          checks: evaluation.checks,
          srm: evaluation.srm,
          arms: readings.map((r) => ({
            armId: r.armId,
            exposures: r.exposures,
            units: r.units,
            suggestions: r.suggestions,
          })),
        } as unknown as Prisma.InputJsonValue;

        let action: CheckOutcome['action'] = 'none';
        let data: Prisma.ExperimentUpdateInput = {};
        let auditAction = '';
        let detail: Record<string, unknown> = {};
        if (decision.kind === 'rollback') {
          const reason = describeRollback(decision.check);
          action = 'rollback';
          auditAction = 'experiment.rollback';
          data = { status: 'rolled_back', endedAt: now, statusReason: `Rolled back: ${reason}` };
          const c = decision.check;
          detail = {
            metric: c.metric,
            arm: c.arm,
            estimate: c.estimate,
            bound: c.bound,
            margin: c.margin,
            alpha: c.alpha,
            nControl: c.nControl,
            nTreatment: c.nTreatment,
          };
          log(`guardrails: experiment ${id} rolled back: ${reason}`);
        } else if (decision.kind === 'hold' && before.status === 'running') {
          action = 'hold';
          auditAction = 'experiment.srm_hold';
          const { chi2, df, pValue } = decision.srm;
          data = {
            status: 'paused',
            statusReason: `Held: sample-ratio mismatch (χ² ${chi2.toFixed(1)}, df ${df}, p ${pValue.toExponential(2)} < 0.001); exposures do not match the weights, check the assignment before resuming`,
          };
          detail = { srm: decision.srm };
          log(`guardrails: experiment ${id} held on a sample-ratio mismatch (p ${pValue})`);
        } else if (decision.kind === 'advance') {
          action = 'advance';
          auditAction = 'experiment.ramp';
          data = { rampStep: decision.toStep, stepStartedAt: now };
        }
        if (action !== 'none') data.configVersion = { increment: 1 };
        const updated = await tx.experiment.update({
          where: { id },
          data: { ...data, lastCheck, lastCheckedAt: now },
          include,
        });
        if (action !== 'none') {
          await recordAudit(tx, SYSTEM, {
            action: auditAction,
            entityType: 'experiment',
            entityId: id,
            before: auditView(before),
            after: { ...auditView(toView(updated)), ...detail },
          });
        }
        return { experimentId: id, action, evaluation };
      },
      { timeout: 60_000, maxWait: 10_000 },
    );
  }

  /** One round: fold the queued rows into the per-unit rollup, then every due experiment. */
  async function runOnce(): Promise<CheckOutcome[]> {
    try {
      // A backlog (after downtime) is folded in bounded transactions before the checks.
      for (let i = 0; i < 50 && !(await foldExperimentQueue(db)).drained; i++);
    } catch (error) {
      // Checks still run on what was folded before; the queue waits for the next round.
      log(`guardrails: fold failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const outcomes: CheckOutcome[] = [];
    for (;;) {
      const outcome = await checkNext();
      if (!outcome) return outcomes;
      outcomes.push(outcome);
    }
  }

  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  const tick = () => {
    running ??= runOnce()
      .catch((error: unknown) =>
        log(`guardrails: round failed: ${error instanceof Error ? error.message : String(error)}`),
      )
      .finally(() => (running = null));
  };

  return {
    runOnce,
    checkNext,
    /** Checks now and then every `min(intervalMs, 10 s)` (due experiments only). */
    start() {
      if (timer) return;
      tick();
      timer = setInterval(tick, tickMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
export type GuardrailJob = ReturnType<typeof createGuardrailJob>;

const globalForJobs = globalThis as unknown as { flywheelGuardrailJob?: GuardrailJob };

/** Starts the job once per process (also across dev hot reloads). */
export function startGuardrailJob(db: Db, intervalMs?: number): GuardrailJob {
  globalForJobs.flywheelGuardrailJob ??= createGuardrailJob({ db, intervalMs });
  globalForJobs.flywheelGuardrailJob.start();
  return globalForJobs.flywheelGuardrailJob;
}
