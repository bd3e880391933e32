/** Creating an experiment (a draft), audited in the same transaction. */
import { randomUUID } from 'node:crypto';
import { recordAudit, type Actor } from '~/features/audit/server/audit-service';
import { ensureFeatures } from '~/features/suggestions/server/feature-sync';
import type { Db } from '~/server/db';
import { NotFoundError } from '~/server/errors';
import { createExperimentInput, type CreateExperimentInput } from '../config';
import { experimentInclude, toView, type ExperimentView } from './experiment-view';
import { auditSnapshot, checkArmVersions, toBasisPoints } from './experiment-store';

export async function createExperiment(
  db: Db,
  actor: Actor,
  raw: CreateExperimentInput,
): Promise<ExperimentView> {
  const input = createExperimentInput.parse(raw);
  await ensureFeatures(db);
  return db.$transaction(async (tx) => {
    const feature = await tx.feature.findUnique({ where: { id: input.featureId } });
    if (!feature) throw new NotFoundError(`Feature "${input.featureId}"`);
    await checkArmVersions(tx, input.arms);
    const bps = toBasisPoints(input.arms.map((a) => a.weight));
    const created = await tx.experiment.create({
      data: {
        featureId: input.featureId,
        name: input.name,
        description: input.description,
        salt: input.seed ?? randomUUID(),
        ramp: input.ramp,
        guardrails: input.guardrails,
        alpha: input.alpha,
        sequentialTuning: input.sequentialTuning,
        createdById: actor.userId,
        arms: {
          create: input.arms.map((a, i) => ({
            name: a.name,
            isControl: a.isControl,
            modelVersionId: a.modelVersionId,
            allocationBp: bps[i] as number,
          })),
        },
      },
      include: experimentInclude,
    });
    const view = toView(created);
    await recordAudit(tx, actor, {
      action: 'experiment.create',
      entityType: 'experiment',
      entityId: view.id,
      after: auditSnapshot(view),
    });
    return view;
  });
}
