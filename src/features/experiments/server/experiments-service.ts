/**
 * Experiments: create and edit A/B rollouts of model versions, and move them through their life
 * (draft → running ⇄ paused → completed by promote, or rolled_back by kill or by a guardrail).
 * One file per operation; this is their public surface.
 *
 * - At most one live (running or paused) experiment per feature: a partial unique index in the
 *   database (`experiment_one_live_per_feature`), so two concurrent starts cannot both win.
 * - Optimistic concurrency: every change names the `configVersion` it was based on; a stale one
 *   is refused with a 409 that carries the current experiment.
 * - Every change is audited in the same transaction (before/after).
 */
export { coverageOf, toView, type ExperimentView } from './experiment-view';
export { StaleVersionError, toBasisPoints } from './experiment-store';
export { experimentHistory, getExperiment, listExperiments } from './read-experiments';
export { createExperiment } from './create-experiment';
export { updateExperiment } from './update-experiment';
export { actOnExperiment } from './act-on-experiment';
export {
  listFeatureSettings,
  setDefaultVersion,
  setHoldout,
  type FeatureSetting,
} from './feature-settings';
