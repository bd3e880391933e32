/** The inference worker. Boot order: env → signals → tracing → models (loading) → http. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readEnv } from './env';
import type { HttpContext } from './http/context';
import { createWorkerMetrics, observeEngine, observeServing } from './http/metrics';
import { createWorkerServer } from './http/server';
import { ModelRegistry } from './models/registry';
import { installShutdown } from './shutdown';
import { startTracing } from './tracing/start';
import type { RequestTracer } from './tracing/types';

const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  const env = readEnv();
  const log = (level: 'info' | 'error', msg: string) => {
    if (env.WORKER_LOG_LEVEL === 'silent' || (env.WORKER_LOG_LEVEL === 'error' && level === 'info'))
      return;
    (level === 'error' ? console.error : console.log)(`[worker] ${msg}`);
  };

  const metrics = createWorkerMetrics();
  // Hooks for every instance, also those loaded later through the repository API.
  const registry = new ModelRegistry({
    env,
    log,
    onInstance: (m) => {
      observeEngine(metrics, m);
      m.engine.onFatal = (message) => log('error', `${m.version.id}: engine failed: ${message}`);
    },
  });
  observeServing(metrics, () => registry.serving());

  let accepting = true;
  let server: Server | null = null;
  let tracer: RequestTracer | null = null;
  // Before any model loads: a signal during boot ends the loading threads and exits 0.
  installShutdown({
    registry,
    server: () => server,
    stopAccepting: () => (accepting = false),
    log,
    graceMs: SHUTDOWN_GRACE_MS,
    beforeExit: async () => {
      // Bounded: an unreachable collector must not hold the exit.
      const flushed = tracer?.shutdown().catch(() => undefined);
      await Promise.race([flushed, new Promise((r) => setTimeout(r, 2000).unref())]);
    },
    exit: (code) => process.exit(code),
  });
  // Only with OTEL_EXPORTER_OTLP_ENDPOINT set; otherwise the SDK is never even imported.
  tracer = await startTracing({
    endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: env.OTEL_SERVICE_NAME,
  });
  if (tracer) log('info', `tracing to ${env.OTEL_EXPORTER_OTLP_ENDPOINT}`);

  // Engines load in their threads while the HTTP server comes up (so liveness answers). A
  // version that fails is reported on /health and /v1/models; the others serve regardless.
  let booted = false;
  const started = registry.loadAll().then(() => (booted = true));

  const ctx: HttpContext = {
    registry,
    metrics,
    env,
    ready: () => accepting && booted,
    accepting: () => accepting,
    tracer,
  };
  const listening = createWorkerServer(ctx);
  await new Promise<void>((resolve, reject) => {
    listening.once('error', reject);
    listening.listen(env.WORKER_PORT, env.WORKER_HOST, () => {
      listening.off('error', reject);
      resolve();
    });
  });
  server = listening;
  if (!accepting) return; // a signal came while binding: the shutdown closes what is open
  const { port } = listening.address() as AddressInfo;
  log('info', `listening on http://${env.WORKER_HOST}:${port} (loading ${env.MODEL_REPOSITORY})`);

  await started;
  if (!accepting) return;
  const entries = registry.list();
  if (entries.length === 0) log('error', `no model versions found under ${env.MODEL_REPOSITORY}`);
  const failed = entries.filter((e) => e.state !== 'READY');
  log(
    failed.length > 0 ? 'error' : 'info',
    `${entries.length - failed.length} of ${entries.length} model versions ready` +
      (failed.length > 0 ? `; failed: ${failed.map((e) => e.id).join(', ')}` : ''),
  );
}

main().catch((err: unknown) => {
  console.error(`[worker] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
