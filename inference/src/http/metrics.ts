/** A small Prometheus text-format registry (counters, gauges, histograms with labels). */
type Labels = Record<string, string>;

const labelKey = (labels: Labels): string =>
  Object.keys(labels)
    .sort()
    .map(
      (k) =>
        `${k}="${(labels[k] ?? '').replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
    )
    .join(',');

const fmt = (name: string, key: string, value: number): string =>
  `${name}${key ? `{${key}}` : ''} ${Number.isFinite(value) ? value : value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN'}`;

interface Metric {
  render(): string[];
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
      ...[...this.values].map(([k, v]) => fmt(this.name, k, v)),
    ];
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect?: () => [Labels, number][],
  ) {}
  set(labels: Labels, value: number): void {
    this.values.set(labelKey(labels), value);
  }
  render(): string[] {
    if (this.collect) for (const [l, v] of this.collect()) this.set(l, v);
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} gauge`,
      ...[...this.values].map(([k, v]) => fmt(this.name, k, v)),
    ];
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {}
  observe(labels: Labels, value: number): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i] = (s.counts[i] ?? 0) + 1;
    });
    s.sum += value;
    s.count += 1;
  }
  count(labels: Labels = {}): number {
    return this.series.get(labelKey(labels))?.count ?? 0;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : '';
      this.buckets.forEach((b, i) =>
        lines.push(fmt(`${this.name}_bucket`, `${sep}le="${b}"`, s.counts[i] ?? 0)),
      );
      lines.push(fmt(`${this.name}_bucket`, `${sep}le="+Inf"`, s.count));
      lines.push(fmt(`${this.name}_sum`, k, s.sum));
      lines.push(fmt(`${this.name}_count`, k, s.count));
    }
    return lines;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  add<T extends Metric>(metric: T): T {
    this.metrics.push(metric);
    return metric;
  }
  render(): string {
    return this.metrics.flatMap((m) => m.render()).join('\n') + '\n';
  }
}

const LATENCY = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The worker's metrics. Gauges that read live state are registered by the server. */
export function createWorkerMetrics(registry = new Registry()) {
  return {
    registry,
    ttft: registry.add(
      new Histogram(
        'worker_time_to_first_token_seconds',
        'Time from request to first token.',
        LATENCY,
      ),
    ),
    itl: registry.add(
      new Histogram('worker_inter_token_latency_seconds', 'Time between streamed tokens.', LATENCY),
    ),
    queueTime: registry.add(
      new Histogram('worker_queue_time_seconds', 'Time waiting for a batch slot.', LATENCY),
    ),
    batchSize: registry.add(
      new Histogram('worker_batch_size', 'Sequences per decode step.', [1, 2, 4, 8, 16, 32, 64]),
    ),
    stepSeconds: registry.add(
      new Histogram('worker_step_seconds', 'Engine step duration.', LATENCY),
    ),
    promptTokens: registry.add(
      new Counter('worker_prompt_tokens_total', 'Prompt tokens received.'),
    ),
    generatedTokens: registry.add(
      new Counter('worker_generation_tokens_total', 'Tokens generated.'),
    ),
    prefixHitTokens: registry.add(
      new Counter(
        'worker_prefix_cache_hit_tokens_total',
        'Prompt tokens served from the prefix cache.',
      ),
    ),
    drafted: registry.add(
      new Counter('worker_speculative_draft_tokens_total', 'Draft tokens verified.'),
    ),
    accepted: registry.add(
      new Counter('worker_speculative_accepted_tokens_total', 'Draft tokens accepted.'),
    ),
    tokensPerSecond: registry.add(
      new Gauge('worker_tokens_per_second', 'Tokens per second over recent engine steps.'),
    ),
    acceptanceRate: registry.add(
      new Gauge('worker_speculative_acceptance_rate', 'Accepted / drafted tokens since start.'),
    ),
    requests: registry.add(
      new Counter('worker_requests_total', 'Finished requests by finish reason.'),
    ),
    errors: registry.add(new Counter('worker_errors_total', 'Errors answered, by type.')),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
