/**
 * Seam for experiments: what a unit is served for a feature. Its experiment arm (a pure hash of
 * unit id and the experiment's seed, see features/experiments/assignment.ts) when it is in one,
 * else the feature's default version (`Feature.defaultModelVersionId`, set by a promotion or in
 * the console). Either replaces the first model of the fallback chain; the rest of the chain
 * stays behind it. Resolving also records the exposure (once per experiment and unit). Never
 * throws: on trouble, or with no default set, the model is null and the chain answers as declared.
 */
import { experimentServing } from '~/features/experiments/server/experiment-serving';
import type { Db } from '~/server/db';
import type { ResolvedModel } from './model-catalog';

export interface ArmChoice {
  experimentId: string;
  armId: string;
  model: ResolvedModel;
}

export interface ServedChoice {
  /** The unit's arm; null outside every experiment (none live, holdout, outside coverage). */
  arm: ArmChoice | null;
  /** The arm's model, else the feature's default version, else null (the chain's first model). */
  model: ResolvedModel | null;
}

export function resolveServed(db: Db, featureId: string, unitId: string): Promise<ServedChoice> {
  return experimentServing(db).resolveServed(featureId, unitId);
}
