/**
 * Editing an experiment: a draft may change everything; a live one only its name, description
 * and guardrails. Based on `expectedVersion` (409 when stale), audited.
 */
import { recordAudit, type Actor } from '~/features/audit/server/audit-service';
import type { Db } from '~/server/db';
import { updateExperimentInput, type UpdateExperimentInput } from '../config';
import { toView, type ExperimentView } from './experiment-view';
import {
  auditSnapshot,
  bad,
  bump,
  checkArmVersions,
  load,
  StaleVersionError,
  toBasisPoints,
} from './experiment-store';

export async function updateExperiment(
  db: Db,
  actor: Actor,
  raw: UpdateExperimentInput,
): Promise<ExperimentView> {
  const input = updateExperimentInput.parse(raw);
  return db.$transaction(async (tx) => {
    const before = toView(await load(tx, input.id));
    if (before.version !== input.expectedVersion) throw new StaleVersionError(before);
    if (before.status === 'completed' || before.status === 'rolled_back')
      throw bad(`A ${before.status.replace('_', ' ')} experiment cannot be edited`);
    const live = before.status !== 'draft';
    if (
      live &&
      (input.arms ||
        input.ramp ||
        input.alpha !== undefined ||
        input.sequentialTuning !== undefined)
    )
      throw bad(
        'Arms, weights, ramp, α and N* are fixed once an experiment has started (changing them would move units between arms or change the tests mid-way); start a new experiment instead',
      );
    if (input.arms) await checkArmVersions(tx, input.arms);
    await bump(tx, input.id, input.expectedVersion, {
      name: input.name,
      description: input.description,
      ramp: input.ramp,
      guardrails: input.guardrails,
      alpha: input.alpha,
      sequentialTuning: input.sequentialTuning,
    });
    if (input.arms) {
      const bps = toBasisPoints(input.arms.map((a) => a.weight));
      await tx.arm.deleteMany({ where: { experimentId: input.id } });
      await tx.arm.createMany({
        data: input.arms.map((a, i) => ({
          experimentId: input.id,
          name: a.name,
          isControl: a.isControl,
          modelVersionId: a.modelVersionId,
          allocationBp: bps[i] as number,
        })),
      });
    }
    const after = toView(await load(tx, input.id));
    await recordAudit(tx, actor, {
      action: 'experiment.update',
      entityType: 'experiment',
      entityId: input.id,
      before: auditSnapshot(before),
      after: auditSnapshot(after),
    });
    return after;
  });
}
