/**
 * The worker's Prometheus metrics (prom-client): what the HTTP side observes per request, and
 * what each engine reports per step. Everything is registered on one registry that /metrics
 * renders; nothing is global, so tests can build several.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServedModel } from '../models/registry';

const LATENCY = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The worker's metrics, on a registry of their own (plus Node's process metrics). */
export function createWorkerMetrics(registry = new Registry()) {
  const registers = [registry];
  const model = ['model'] as const;
  const histogram = (name: string, help: string, buckets: number[]) =>
    new Histogram({ name, help, buckets, labelNames: model, registers });
  const counter = (name: string, help: string) =>
    new Counter({ name, help, labelNames: model, registers });
  const gauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: model, registers });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    ttft: histogram(
      'worker_time_to_first_token_seconds',
      'Time from request to first token.',
      LATENCY,
    ),
    itl: histogram('worker_inter_token_latency_seconds', 'Time between streamed tokens.', LATENCY),
    queueTime: histogram('worker_queue_time_seconds', 'Time waiting for a batch slot.', LATENCY),
    batchSize: histogram(
      'worker_batch_size',
      'Sequences per decode step.',
      [1, 2, 4, 8, 16, 32, 64],
    ),
    stepSeconds: histogram('worker_step_seconds', 'Engine step duration.', LATENCY),
    promptTokens: counter('worker_prompt_tokens_total', 'Prompt tokens received.'),
    generatedTokens: counter('worker_generation_tokens_total', 'Tokens generated.'),
    prefixHitTokens: counter(
      'worker_prefix_cache_hit_tokens_total',
      'Prompt tokens served from the prefix cache.',
    ),
    drafted: counter('worker_speculative_draft_tokens_total', 'Draft tokens verified.'),
    accepted: counter('worker_speculative_accepted_tokens_total', 'Draft tokens accepted.'),
    tokensPerSecond: gauge(
      'worker_tokens_per_second',
      'Tokens per second over recent engine steps.',
    ),
    acceptanceRate: gauge(
      'worker_speculative_acceptance_rate',
      'Accepted / drafted tokens since the version (re)loaded.',
    ),
    requests: new Counter({
      name: 'worker_requests_total',
      help: 'HTTP requests answered, by route pattern and status (499: the client went away first).',
      labelNames: ['route', 'status'] as const,
      registers,
    }),
    errors: new Counter({
      name: 'worker_errors_total',
      help: 'Errors answered, by type.',
      labelNames: ['type'] as const,
      registers,
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

/** Gauges read from the models serving now, at each scrape. */
export function observeServing(metrics: WorkerMetrics, serving: () => readonly ServedModel[]) {
  const live = (name: string, help: string, read: (m: ServedModel) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['model'] as const,
      registers: [metrics.registry],
      collect() {
        this.reset(); // versions unloaded since the last scrape disappear
        for (const m of serving()) this.set({ model: m.version.id }, read(m));
      },
    });
  live('worker_queue_depth', 'Requests waiting for a slot.', (m) => m.engine.queued);
  live('worker_slots_in_use', 'Sequences holding a batch slot.', (m) => m.engine.running);
}

/** Folds one engine instance's step reports into the metrics. */
export function observeEngine(metrics: WorkerMetrics, served: ServedModel): void {
  const labels = { model: served.version.id };
  let drafted = 0;
  let accepted = 0;
  let ewma = 0;
  served.engine.onStep = (s) => {
    if (s.batch > 0) metrics.batchSize.observe(labels, s.batch);
    metrics.stepSeconds.observe(labels, s.ms / 1000);
    metrics.drafted.inc(labels, s.drafted);
    metrics.accepted.inc(labels, s.accepted);
    drafted += s.drafted;
    accepted += s.accepted;
    if (drafted > 0) metrics.acceptanceRate.set(labels, accepted / drafted);
    if (s.ms > 0) {
      const rate = (1000 * s.tokens) / s.ms;
      ewma = ewma === 0 ? rate : 0.9 * ewma + 0.1 * rate;
    }
    metrics.tokensPerSecond.set(labels, ewma);
  };
}
