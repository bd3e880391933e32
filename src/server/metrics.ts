/**
 * The app's Prometheus metrics (one registry per process, kept across dev hot reloads), served
 * at GET /api/v1/metrics. Features register their own series here through `counter`/`gauge`.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

const globalForMetrics = globalThis as unknown as { flywheelMetrics?: Registry };

export function metricsRegistry(): Registry {
  if (!globalForMetrics.flywheelMetrics) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'flywheel_' });
    globalForMetrics.flywheelMetrics = registry;
  }
  return globalForMetrics.flywheelMetrics;
}

/** A counter registered once per process under `name` (a second call returns the first). */
export function counter<L extends string>(name: string, help: string, labelNames: L[] = []) {
  const registry = metricsRegistry();
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter<L>({ name, help, labelNames, registers: [registry] });
}

/** A gauge registered once per process; `collect` reads its value at scrape time. */
export function gauge(name: string, help: string, collect: () => number) {
  const registry = metricsRegistry();
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge;
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(collect());
    },
  });
}
