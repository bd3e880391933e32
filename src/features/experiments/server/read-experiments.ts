/** Reading experiments: the list, one experiment, and its audit history. */
import type { Db } from '~/server/db';
import type { ExperimentStatus } from '../config';
import { experimentInclude, toView, type ExperimentView } from './experiment-view';
import { load } from './experiment-store';

export async function listExperiments(
  db: Db,
  filter: { featureId?: string; status?: ExperimentStatus } = {},
): Promise<ExperimentView[]> {
  const rows = await db.experiment.findMany({
    where: { featureId: filter.featureId, status: filter.status },
    include: experimentInclude,
    orderBy: { createdAt: 'desc' },
    take: 200,
  });
  return rows.map(toView);
}

export async function getExperiment(db: Db, id: string): Promise<ExperimentView> {
  return toView(await load(db, id));
}

export async function experimentHistory(db: Db, id: string) {
  return db.auditLog.findMany({
    where: { entityType: 'experiment', entityId: id },
    orderBy: { createdAt: 'desc' },
    take: 200,
    select: {
      id: true,
      action: true,
      actorType: true,
      actor: { select: { name: true, email: true } },
      before: true,
      after: true,
      createdAt: true,
    },
  });
}
