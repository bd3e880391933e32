import type { Actor } from '~/features/audit/server/audit-service';
import { LIVE, type ExperimentView } from './experiment-view';
import type { Tx } from './experiment-store';
import { applyDefaultVersion } from './feature-settings';

/**
 * The winner's version becomes active and the feature's default; the versions it replaces (other
 * active versions of its model, the losing arms' versions) are retired unless another live
 * experiment still serves them or another feature has them as default. The default's change is
 * audited on the feature too (`feature.set_default_version`, via the experiment).
 */
export async function promoteVersion(
  tx: Tx,
  actor: Actor,
  promotion: { experiment: ExperimentView; winnerId: string },
): Promise<void> {
  const { experiment, winnerId } = promotion;
  const winner = await tx.modelVersion.update({
    where: { id: winnerId },
    data: { status: 'active' },
    select: { id: true, name: true },
  });
  const replaced = await tx.modelVersion.findMany({
    where: {
      id: { not: winnerId },
      OR: [
        { name: winner.name, status: 'active' },
        { id: { in: experiment.arms.map((a) => a.modelVersion.id) } },
      ],
    },
    select: { id: true },
  });
  for (const { id } of replaced) {
    const inUse = await tx.modelVersion.findFirst({
      where: {
        id,
        OR: [
          {
            arms: {
              some: {
                experimentId: { not: experiment.id },
                experiment: { status: { in: LIVE } },
              },
            },
          },
          { defaultFor: { some: { id: { not: experiment.featureId } } } },
        ],
      },
      select: { id: true },
    });
    if (!inUse) await tx.modelVersion.update({ where: { id }, data: { status: 'retired' } });
  }
  await applyDefaultVersion(tx, actor, {
    featureId: experiment.featureId,
    versionId: winnerId,
    via: `experiment ${experiment.id} ("${experiment.name}")`,
  });
}
