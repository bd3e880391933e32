/**
 * The eval job: each round, one queued run is claimed by one app instance (`FOR UPDATE SKIP
 * LOCKED`) and run to the end. A running row whose heartbeat (`updatedAt`, bumped by progress
 * writes) is older than `staleAfterMs` was left by a process that died: it is queued again, which
 * is safe since a run is a function of its recorded config.
 */
import { backendPool } from '~/features/suggestions/server/suggestions-runtime';
import type { Db } from '~/server/db';
import { startPollingJob } from '~/server/polling-job';
import { runEvalRun, type EvalRunOptions } from './evals-service';

export interface EvalJobOptions extends Partial<EvalRunOptions> {
  intervalMs?: number;
  staleAfterMs?: number;
}

export function createEvalJob(db: Db, options: EvalJobOptions = {}) {
  const staleAfterMs = options.staleAfterMs ?? 5 * 60_000;

  async function claim(): Promise<string | null> {
    return db.$transaction(async (tx) => {
      await tx.$executeRaw`UPDATE eval_run SET status = 'queued', done = 0
        WHERE status = 'running' AND "updatedAt" < ${new Date(Date.now() - staleAfterMs)}`;
      const rows = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM eval_run WHERE status = 'queued'
        ORDER BY "createdAt", id LIMIT 1
        FOR UPDATE SKIP LOCKED`;
      const id = rows[0]?.id;
      if (!id) return null;
      await tx.evalRun.update({
        where: { id },
        data: { status: 'running', startedAt: new Date() },
      });
      return id;
    });
  }

  /** Claims and runs one run; null when none is waiting. Failures are recorded on the run. */
  async function runNext(): Promise<string | null> {
    const id = await claim();
    if (!id) return null;
    const pool = options.pool ?? backendPool();
    await runEvalRun(db, id, { ...options, pool }).catch(() => undefined); // the row says why
    return id;
  }

  return { runNext };
}

export function startEvalJob(db: Db, options: EvalJobOptions = {}) {
  const job = createEvalJob(db, options);
  return startPollingJob('Eval job', options.intervalMs ?? 2_000, () => job.runNext());
}
