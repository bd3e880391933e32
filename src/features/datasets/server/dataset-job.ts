/**
 * The dataset build job: each round, one queued build is claimed by one app instance
 * (`FOR UPDATE SKIP LOCKED`, and only when no build of the same dataset is running, so version
 * numbers follow build order) and run. A build left running by a process that died is queued
 * again after `staleAfterMs`; since a build is a pure function of its inputs, rerunning is safe.
 */
import type { Db } from '~/server/db';
import { startPollingJob } from '~/server/polling-job';
import { runBuild, type DatasetsOptions } from './datasets-service';

export interface DatasetJobOptions extends DatasetsOptions {
  intervalMs?: number;
  staleAfterMs?: number;
}

export function createDatasetJob(db: Db, options: DatasetJobOptions = {}) {
  const staleAfterMs = options.staleAfterMs ?? 30 * 60_000;

  async function claim(): Promise<string | null> {
    return db.$transaction(async (tx) => {
      await tx.$executeRaw`UPDATE dataset_build SET status = 'queued'
        WHERE status = 'running' AND "startedAt" < ${new Date(Date.now() - staleAfterMs)}`;
      const rows = await tx.$queryRaw<{ id: string }[]>`
        SELECT b.id FROM dataset_build b
        WHERE b.status = 'queued' AND NOT EXISTS (
          SELECT 1 FROM dataset_build r WHERE r."datasetId" = b."datasetId" AND r.status = 'running')
        ORDER BY b."createdAt", b.id LIMIT 1
        FOR UPDATE SKIP LOCKED`;
      const id = rows[0]?.id;
      if (!id) return null;
      await tx.datasetBuild.update({
        where: { id },
        data: { status: 'running', startedAt: new Date() },
      });
      return id;
    });
  }

  /** Claims and runs one build; null when none is waiting. Failures are recorded on the build. */
  async function runNext(): Promise<string | null> {
    const id = await claim();
    if (!id) return null;
    await runBuild(db, id, options).catch(() => undefined); // the build row says why
    return id;
  }

  return { runNext };
}

export function startDatasetJob(db: Db, options: DatasetJobOptions = {}) {
  const job = createDatasetJob(db, options);
  return startPollingJob('Dataset job', options.intervalMs ?? 2_000, () => job.runNext());
}
