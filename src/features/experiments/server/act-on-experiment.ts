/**
 * An experiment's life: start, pause, advance (ramp), kill and promote. Each names the version it
 * was based on (409 when stale) and is audited in the same transaction.
 */
import { recordAudit, type Actor } from '~/features/audit/server/audit-service';
import type { Prisma } from '~/generated/prisma/client';
import type { Db } from '~/server/db';
import { DomainError } from '~/server/errors';
import { experimentActionInput, type ExperimentActionInput } from '../config';
import { LIVE, toView, type ExperimentView } from './experiment-view';
import {
  auditSnapshot,
  bad,
  bump,
  checkArmVersions,
  isUniqueViolation,
  load,
  StaleVersionError,
} from './experiment-store';
import { promoteVersion } from './promote-version';

const actorLabel = (actor: Actor) =>
  actor.type === 'system'
    ? 'the guardrail job'
    : actor.type === 'api_key'
      ? 'an API key'
      : 'a user';

export async function actOnExperiment(
  db: Db,
  actor: Actor,
  raw: ExperimentActionInput,
): Promise<ExperimentView> {
  const input = experimentActionInput.parse(raw);
  try {
    return await db.$transaction(async (tx) => {
      const before = toView(await load(tx, input.id));
      if (before.version !== input.expectedVersion) throw new StaleVersionError(before);
      const now = new Date();
      const reason = input.reason?.trim() ? `: ${input.reason.trim()}` : '';
      let data: Prisma.ExperimentUncheckedUpdateManyInput;
      switch (input.action) {
        case 'start': {
          if (before.status !== 'draft' && before.status !== 'paused')
            throw bad(
              `Only a draft or paused experiment can be started (this one is ${before.status})`,
            );
          await checkArmVersions(
            tx,
            before.arms.map((a) => ({ ...a, modelVersionId: a.modelVersion.id })),
          );
          data =
            before.status === 'draft'
              ? {
                  status: 'running',
                  startedAt: now,
                  stepStartedAt: now,
                  rampStep: 0,
                  statusReason: null,
                }
              : { status: 'running', statusReason: null };
          break;
        }
        case 'pause':
          if (before.status !== 'running')
            throw bad(`Only a running experiment can be paused (this one is ${before.status})`);
          data = { status: 'paused', statusReason: `Paused by ${actorLabel(actor)}${reason}` };
          break;
        case 'advance': {
          if (!LIVE.includes(before.status))
            throw bad(
              `Only a running or paused experiment can ramp (this one is ${before.status})`,
            );
          if (before.rampStep + 1 >= before.ramp.length)
            throw bad('The experiment is already at its last ramp step');
          data = { rampStep: before.rampStep + 1, stepStartedAt: now };
          break;
        }
        case 'kill':
          if (!LIVE.includes(before.status))
            throw bad(
              `Only a running or paused experiment can be killed (this one is ${before.status})`,
            );
          data = {
            status: 'rolled_back',
            endedAt: now,
            statusReason: `Killed by ${actorLabel(actor)}${reason}: all traffic back to the default`,
          };
          break;
        case 'promote': {
          if (!LIVE.includes(before.status))
            throw bad(
              `Only a running or paused experiment can be promoted (this one is ${before.status})`,
            );
          const treatments = before.arms.filter((a) => !a.isControl);
          const winner = input.armId
            ? before.arms.find((a) => a.id === input.armId)
            : treatments.length === 1
              ? treatments[0]
              : undefined;
          if (!winner)
            throw bad(
              input.armId
                ? `Arm ${input.armId} is not an arm of this experiment`
                : 'Name the arm to promote (armId): this experiment has several treatments',
            );
          await promoteVersion(tx, actor, { experiment: before, winnerId: winner.modelVersion.id });
          data = {
            status: 'completed',
            endedAt: now,
            statusReason: `Promoted arm "${winner.name}" (${winner.modelVersion.label}) to the feature's default${reason}`,
          };
          break;
        }
      }
      await bump(tx, input.id, input.expectedVersion, data);
      const after = toView(await load(tx, input.id));
      await recordAudit(tx, actor, {
        action: `experiment.${input.action}`,
        entityType: 'experiment',
        entityId: input.id,
        before: auditSnapshot(before),
        after: auditSnapshot(after),
      });
      return after;
    });
  } catch (error) {
    if (input.action === 'start' && isUniqueViolation(error)) {
      const live = await db.experiment.findFirst({
        where: { id: { not: input.id }, status: { in: LIVE } },
        select: { name: true, featureId: true },
        orderBy: { updatedAt: 'desc' },
      });
      throw new DomainError(
        'CONFLICT',
        `Feature "${live?.featureId ?? 'this feature'}" already has a live experiment${live ? ` ("${live.name}")` : ''}; pause is not enough: kill or promote it first`,
      );
    }
    throw error;
  }
}
