/** Per-feature experiment settings: the holdout (units no experiment on the feature touches). */
import { recordAudit, type Actor } from '~/features/audit/server/audit-service';
import { ensureFeatures } from '~/features/suggestions/server/feature-sync';
import type { Db } from '~/server/db';
import { NotFoundError } from '~/server/errors';
import { holdoutInput } from '../config';
import { LIVE } from './experiment-view';
import { bad } from './experiment-store';

export async function setHoldout(
  db: Db,
  actor: Actor,
  raw: { featureId: string; share: number },
): Promise<{ featureId: string; share: number }> {
  const input = holdoutInput.parse(raw);
  await ensureFeatures(db);
  return db.$transaction(async (tx) => {
    const feature = await tx.feature.findUnique({ where: { id: input.featureId } });
    if (!feature) throw new NotFoundError(`Feature "${input.featureId}"`);
    const live = await tx.experiment.findFirst({
      where: { featureId: input.featureId, status: { in: LIVE } },
      select: { name: true },
    });
    const holdoutBp = Math.round(input.share * 10_000);
    if (live && holdoutBp !== feature.holdoutBp)
      throw bad(
        `The holdout cannot change while "${live.name}" is live on this feature (units would leave or join it)`,
      );
    await tx.feature.update({ where: { id: input.featureId }, data: { holdoutBp } });
    await recordAudit(tx, actor, {
      action: 'feature.set_holdout',
      entityType: 'feature',
      entityId: input.featureId,
      before: { holdout: feature.holdoutBp / 10_000 },
      after: { holdout: holdoutBp / 10_000 },
    });
    return { featureId: input.featureId, share: holdoutBp / 10_000 };
  });
}

export async function listHoldouts(db: Db): Promise<{ featureId: string; share: number }[]> {
  await ensureFeatures(db);
  const rows = await db.feature.findMany({
    select: { id: true, holdoutBp: true },
    orderBy: { id: 'asc' },
  });
  return rows.map((r) => ({ featureId: r.id, share: r.holdoutBp / 10_000 }));
}
