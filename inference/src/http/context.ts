/** What the HTTP layer is given at boot: the served models, metrics and settings. */
import type { EngineClient } from '../engine/engine-client';
import type { WorkerEnv } from '../env';
import type { ModelTokenizer } from '../models/tokenizer';
import type { ModelVersion } from '../models/repository';
import type { WorkerMetrics } from './metrics';

export interface ServedModel {
  version: ModelVersion;
  tokenizer: ModelTokenizer;
  engine: EngineClient;
}

export interface HttpContext {
  models: ServedModel[];
  metrics: WorkerMetrics;
  env: WorkerEnv;
  /** False while loading or shutting down. */
  ready: () => boolean;
}
