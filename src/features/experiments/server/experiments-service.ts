/**
 * Experiments: create and edit A/B rollouts of model versions, and move them through their life
 * (draft → running ⇄ paused → completed by promote, or rolled_back by kill or by a guardrail).
 *
 * - At most one live (running or paused) experiment per feature: a partial unique index in the
 *   database (`experiment_one_live_per_feature`), so two concurrent starts cannot both win.
 * - Optimistic concurrency: every change names the `configVersion` it was based on; a stale one
 *   is refused with a 409 that carries the current experiment.
 * - Every change is audited in the same transaction (before/after).
 */
import { randomUUID } from 'node:crypto';
import { recordAudit, type Actor } from '~/features/audit/server/audit-service';
import { ensureFeatures } from '~/features/suggestions/server/feature-sync';
import type { Prisma } from '~/generated/prisma/client';
import type { Db } from '~/server/db';
import { DomainError, NotFoundError } from '~/server/errors';
import {
  createExperimentInput,
  experimentActionInput,
  holdoutInput,
  updateExperimentInput,
  type ArmInput,
  type CreateExperimentInput,
  type ExperimentActionInput,
  type ExperimentStatus,
  type UpdateExperimentInput,
} from '../config';
import {
  coverageOf,
  experimentInclude,
  LIVE,
  toView,
  type ExperimentRow,
  type ExperimentView,
} from './experiment-view';

export { coverageOf, toView, type ExperimentView };

type Tx = Prisma.TransactionClient;

/** What the audit log keeps of an experiment (configuration and state, not the last check). */
function auditSnapshot(view: ExperimentView) {
  return {
    version: view.version,
    status: view.status,
    name: view.name,
    description: view.description,
    rampStep: view.rampStep,
    coverage: view.coverage,
    ramp: view.ramp,
    guardrails: view.guardrails,
    alpha: view.alpha,
    statusReason: view.statusReason,
    arms: view.arms.map((a) => ({
      name: a.name,
      isControl: a.isControl,
      weight: a.weight,
      modelVersion: a.modelVersion.label,
    })),
  };
}

/** The change was based on an old version: 409, with the experiment as it is now. */
export class StaleVersionError extends DomainError {
  constructor(readonly current: ExperimentView) {
    super(
      'CONFLICT',
      `This experiment was changed meanwhile (it is at version ${current.version}); reload it and try again`,
      { current },
    );
  }
}

function bad(message: string): DomainError {
  return new DomainError('BAD_REQUEST', message);
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'P2002' || code === '23505';
}

/** Weights as whole basis points summing to exactly 10,000 (largest remainder). */
export function toBasisPoints(weights: readonly number[]): number[] {
  const raw = weights.map((w) => w * 10_000);
  const floors = raw.map(Math.floor);
  let left = 10_000 - floors.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => ({ i, frac: r - Math.floor(r) })).sort((a, b) => b.frac - a.frac);
  for (const { i } of order) {
    if (left <= 0) break;
    floors[i] = (floors[i] as number) + 1;
    left--;
  }
  return floors;
}

async function checkArmVersions(tx: Tx, arms: ArmInput[]): Promise<void> {
  const ids = [...new Set(arms.map((a) => a.modelVersionId))];
  const found = await tx.modelVersion.findMany({
    where: { id: { in: ids } },
    select: { id: true, status: true, name: true, version: true },
  });
  for (const id of ids) {
    const version = found.find((v) => v.id === id);
    if (!version) throw bad(`Model version ${id} is not registered`);
    if (version.status === 'retired')
      throw bad(`Model version ${version.name}/${version.version} is retired; pick a live one`);
  }
}

async function load(tx: Tx | Db, id: string): Promise<ExperimentRow> {
  const row = await tx.experiment.findUnique({ where: { id }, include: experimentInclude });
  if (!row) throw new NotFoundError(`Experiment ${id}`);
  return row;
}

/**
 * Applies `data` only if the experiment is still at `expected`, bumping the version. A concurrent
 * change that committed first makes this a 409 (the row lock serialises the two updates).
 */
async function bump(
  tx: Tx,
  id: string,
  expected: number,
  data: Prisma.ExperimentUncheckedUpdateManyInput,
): Promise<void> {
  const { count } = await tx.experiment.updateMany({
    where: { id, configVersion: expected },
    data: { ...data, configVersion: { increment: 1 } },
  });
  if (count === 0) throw new StaleVersionError(toView(await load(tx, id)));
}

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
        salt: randomUUID(),
        ramp: input.ramp,
        guardrails: input.guardrails,
        alpha: input.alpha,
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
    if (live && (input.arms || input.ramp || input.alpha !== undefined))
      throw bad(
        'Arms, weights, ramp and α are fixed once an experiment has started (changing them would move units between arms); start a new experiment instead',
      );
    if (input.arms) await checkArmVersions(tx, input.arms);
    await bump(tx, input.id, input.expectedVersion, {
      name: input.name,
      description: input.description,
      ramp: input.ramp,
      guardrails: input.guardrails,
      alpha: input.alpha,
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
          await promoteVersion(tx, before, winner.modelVersion.id);
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

/**
 * The winner's version becomes active and the feature's default; the versions it replaces (other
 * active versions of its model, the losing arms' versions) are retired unless another live
 * experiment still serves them or another feature has them as default.
 */
async function promoteVersion(tx: Tx, experiment: ExperimentView, winnerId: string): Promise<void> {
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
  await tx.feature.update({
    where: { id: experiment.featureId },
    data: { defaultModelVersionId: winnerId },
  });
}

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
