/**
 * Seam for the experiments issue: the arm a unit is in for a feature (a pure hash of unit id,
 * experiment salt and config version), whose model version replaces the feature's default.
 * No experiments exist yet, so every unit gets the default (null).
 */
import type { ResolvedModel } from './model-catalog';

export interface ArmChoice {
  experimentId: string;
  armId: string;
  model: ResolvedModel;
}

export function resolveArm(_featureId: string, _unitId: string): Promise<ArmChoice | null> {
  return Promise.resolve(null);
}
