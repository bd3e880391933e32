/**
 * What every experiment operation shares: loading a row, the optimistic-concurrency bump, the
 * audit snapshot, arm checks and the errors they throw.
 */
import type { Prisma } from '~/generated/prisma/client';
import type { Db } from '~/server/db';
import { DomainError, NotFoundError } from '~/server/errors';
import type { ArmInput } from '../config';
import {
  experimentInclude,
  toView,
  type ExperimentRow,
  type ExperimentView,
} from './experiment-view';

export type Tx = Prisma.TransactionClient;

/** What the audit log keeps of an experiment (configuration and state, not the last check). */
export function auditSnapshot(view: ExperimentView) {
  return {
    version: view.version,
    status: view.status,
    seed: view.seed,
    name: view.name,
    description: view.description,
    rampStep: view.rampStep,
    coverage: view.coverage,
    ramp: view.ramp,
    guardrails: view.guardrails,
    alpha: view.alpha,
    sequentialTuning: view.sequentialTuning,
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

export function bad(message: string): DomainError {
  return new DomainError('BAD_REQUEST', message);
}

export function isUniqueViolation(error: unknown): boolean {
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

export async function checkArmVersions(tx: Tx, arms: ArmInput[]): Promise<void> {
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

export async function load(tx: Tx | Db, id: string): Promise<ExperimentRow> {
  const row = await tx.experiment.findUnique({ where: { id }, include: experimentInclude });
  if (!row) throw new NotFoundError(`Experiment ${id}`);
  return row;
}

/**
 * Applies `data` only if the experiment is still at `expected`, bumping the version. A concurrent
 * change that committed first makes this a 409 (the row lock serialises the two updates).
 */
export async function bump(
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
