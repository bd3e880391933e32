/**
 * Seam for experiments: the arm a unit is in for a feature (a pure hash of unit id and the
 * experiment's seed, see features/experiments/assignment.ts), whose model version replaces the
 * feature's default. Resolving also records the exposure (once per experiment and unit). Never
 * throws: without a live experiment, in the holdout, outside coverage or on trouble, it is null
 * and the feature's default answers.
 */
import { experimentServing } from '~/features/experiments/server/experiment-serving';
import type { Db } from '~/server/db';
import type { ResolvedModel } from './model-catalog';

export interface ArmChoice {
  experimentId: string;
  armId: string;
  model: ResolvedModel;
}

export function resolveArm(db: Db, featureId: string, unitId: string): Promise<ArmChoice | null> {
  return experimentServing(db).resolve(featureId, unitId);
}
