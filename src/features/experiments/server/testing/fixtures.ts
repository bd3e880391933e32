/**
 * Rows the experiments tests need, with unique ids so suites can share a database: a feature of
 * their own (no test touches the features declared in code) and registered model versions.
 */
import { randomUUID } from 'node:crypto';
import type { Actor } from '~/features/audit/server/audit-service';
import type { Db } from '~/server/db';
import { toPublicError } from '~/server/errors';
import { makeUser } from '~/test/databases';
import type { CreateExperimentInput, RampStep } from '../../config';
import { actOnExperiment } from '../act-on-experiment';
import { createExperiment } from '../create-experiment';

export async function makeFeature(db: Db): Promise<string> {
  const id = `test-feature-${randomUUID().slice(0, 8)}`;
  await db.feature.create({
    data: { id, task: 'completion', config: {}, configHash: 'test' },
  });
  return id;
}

export async function makeVersions(
  db: Db,
  count: number,
  status: 'registered' | 'active' | 'retired' = 'registered',
) {
  const name = `test-model-${randomUUID().slice(0, 8)}`;
  const rows = [];
  for (let i = 1; i <= count; i++) {
    rows.push(
      await db.modelVersion.create({
        data: { name, version: String(i), backendModel: `${name}/${i}`, status },
      }),
    );
  }
  return rows;
}

export const QUICK_RAMP: RampStep[] = [
  { coverage: 0.2, minDurationMinutes: 0, minUnitsPerArm: 0 },
  { coverage: 0.5, minDurationMinutes: 0, minUnitsPerArm: 0 },
  { coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 },
];

export async function experimentInput(
  db: Db,
  overrides: Partial<CreateExperimentInput> = {},
): Promise<CreateExperimentInput> {
  const featureId = overrides.featureId ?? (await makeFeature(db));
  const [v1, v2] = await makeVersions(db, 2);
  return {
    featureId,
    name: `Test ${randomUUID().slice(0, 6)}`,
    arms: [
      { name: 'control', modelVersionId: v1!.id, weight: 0.5, isControl: true },
      { name: 'treatment', modelVersionId: v2!.id, weight: 0.5, isControl: false },
    ],
    ramp: QUICK_RAMP,
    ...overrides,
  };
}

/** The HTTP status a call ends with: 200, or the one its error maps to. */
export async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    return toPublicError(error).status;
  }
}

/** A new editor, as the actor of experiment actions. */
export async function editor(db: Db): Promise<Actor> {
  return { type: 'user', userId: (await makeUser(db, 'editor')).id };
}

/** An experiment created and started by `who`: as created, and as started (version 2). */
export async function createAndStart(db: Db, who: Actor, input: CreateExperimentInput) {
  const created = await createExperiment(db, who, input);
  const started = await actOnExperiment(db, who, {
    id: created.id,
    expectedVersion: 1,
    action: 'start',
  });
  return { created, started };
}
