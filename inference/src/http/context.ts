/** What the HTTP layer is given at boot: the model registry, metrics and settings. */
import type { WorkerEnv } from '../env';
import type { ModelRegistry } from '../models/registry';
import type { RequestTracer } from '../tracing/types';
import type { WorkerMetrics } from './metrics';

export type { ServedModel } from '../models/registry';

export interface HttpContext {
  registry: ModelRegistry;
  metrics: WorkerMetrics;
  env: WorkerEnv;
  /** Server readiness: every model found at boot has loaded or failed, and not shutting down. */
  ready: () => boolean;
  /** False once shutting down: new work is refused. */
  accepting: () => boolean;
  /** Spans for generation requests, or null when tracing is off (no OTLP endpoint). */
  tracer: RequestTracer | null;
}
