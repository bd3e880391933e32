/** The inference worker. Boot order: env → models → engine → http → signals. */
import type { AddressInfo } from 'node:net';
import { readEnv } from './env';
import type { HttpContext, ServedModel } from './http/context';
import { Gauge, createWorkerMetrics } from './http/metrics';
import { createWorkerServer } from './http/server';
import { ModelRegistry } from './models/registry';

const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  const env = readEnv();
  const log = (level: 'info' | 'error', msg: string) => {
    if (env.WORKER_LOG_LEVEL === 'silent' || (env.WORKER_LOG_LEVEL === 'error' && level === 'info'))
      return;
    (level === 'error' ? console.error : console.log)(`[worker] ${msg}`);
  };

  const metrics = createWorkerMetrics();
  const drafted = new Map<string, { d: number; a: number }>();
  // Metrics hooks for every instance, also those loaded later through the repository API.
  const attach = (m: ServedModel) => {
    const model = m.version.id;
    let ewma = 0;
    m.engine.onStep = (s) => {
      if (s.batch > 0) metrics.batchSize.observe({ model }, s.batch);
      metrics.stepSeconds.observe({ model }, s.ms / 1000);
      metrics.drafted.inc({ model }, s.drafted);
      metrics.accepted.inc({ model }, s.accepted);
      const tot = drafted.get(model) ?? { d: 0, a: 0 };
      tot.d += s.drafted;
      tot.a += s.accepted;
      drafted.set(model, tot);
      if (tot.d > 0) metrics.acceptanceRate.set({ model }, tot.a / tot.d);
      if (s.ms > 0)
        ewma = ewma === 0 ? (1000 * s.tokens) / s.ms : 0.9 * ewma + (0.1 * 1000 * s.tokens) / s.ms;
      metrics.tokensPerSecond.set({ model }, ewma);
    };
    m.engine.onFatal = (message) => log('error', `${model}: engine failed: ${message}`);
  };
  const registry = new ModelRegistry({ env, log, onInstance: attach });
  const live = (f: (m: ServedModel) => number) => () =>
    registry
      .serving()
      .map((m): [Record<string, string>, number] => [{ model: m.version.id }, f(m)]);
  metrics.registry.add(
    new Gauge(
      'worker_queue_depth',
      'Requests waiting for a slot.',
      live((m) => m.engine.queued),
    ),
  );
  metrics.registry.add(
    new Gauge(
      'worker_slots_in_use',
      'Sequences holding a batch slot.',
      live((m) => m.engine.running),
    ),
  );

  // Engines load in their threads while the HTTP server comes up (so liveness answers). A
  // version that fails is reported on /health and /v1/models; the others serve regardless.
  let booted = false;
  const started = registry.loadAll().then(() => (booted = true));

  let accepting = true;
  const ctx: HttpContext = {
    registry,
    metrics,
    env,
    ready: () => accepting && booted,
    accepting: () => accepting,
  };
  const server = createWorkerServer(ctx);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.WORKER_PORT, env.WORKER_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  log('info', `listening on http://${env.WORKER_HOST}:${port} (loading ${env.MODEL_REPOSITORY})`);

  await started;
  const entries = registry.list();
  if (entries.length === 0) log('error', `no model versions found under ${env.MODEL_REPOSITORY}`);
  const failed = entries.filter((e) => e.state !== 'READY');
  log(
    failed.length > 0 ? 'error' : 'info',
    `${entries.length - failed.length} of ${entries.length} model versions ready` +
      (failed.length > 0 ? `; failed: ${failed.map((e) => e.id).join(', ')}` : ''),
  );

  // Graceful stop: refuse new work (503, readiness off), let in-flight generations finish for
  // up to SHUTDOWN_GRACE_MS, then cancel the rest, end the engine threads and exit 0.
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    accepting = false;
    log('info', `${signal}: draining`);
    server.close();
    server.closeIdleConnections();
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    const busy = () =>
      registry.drainingCount > 0 || registry.serving().some((m) => m.engine.inFlight > 0);
    while (Date.now() < deadline && busy()) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await registry.stopAll();
    server.closeAllConnections();
    log('info', 'stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(`[worker] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
