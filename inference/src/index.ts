/** The inference worker. Boot order: env → models → engine → http → signals. */
import type { AddressInfo } from 'node:net';
import { EngineClient } from './engine/engine-client';
import { readEnv } from './env';
import type { HttpContext, ServedModel } from './http/context';
import { Gauge, createWorkerMetrics } from './http/metrics';
import { createWorkerServer } from './http/server';
import { scanRepository } from './models/repository';
import { ModelTokenizer } from './models/tokenizer';

const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  const env = readEnv();
  const log = (level: 'info' | 'error', msg: string) => {
    if (env.WORKER_LOG_LEVEL === 'silent' || (env.WORKER_LOG_LEVEL === 'error' && level === 'info'))
      return;
    (level === 'error' ? console.error : console.log)(`[worker] ${msg}`);
  };

  const versions = scanRepository(env.MODEL_REPOSITORY);
  if (versions.length === 0) log('error', `no model versions found under ${env.MODEL_REPOSITORY}`);

  const models: ServedModel[] = versions.map((version) => {
    const tokenizer = ModelTokenizer.load(version);
    const engine = new EngineClient(
      version.modelPath,
      env.WORKER_EXECUTION_PROVIDERS,
      env.WORKER_INTRA_OP_THREADS,
      {
        contextLength: version.config.contextLength,
        eos: tokenizer.eosTokenIds,
        maxBatch: env.WORKER_MAX_BATCH,
        maxQueue: env.WORKER_MAX_QUEUE,
        kvCacheBytes: env.WORKER_KV_CACHE_BYTES,
        maxDraft: env.WORKER_SPECULATIVE_TOKENS,
        prefillChunk: env.WORKER_PREFILL_CHUNK,
      },
    );
    return { version, tokenizer, engine };
  });

  const metrics = createWorkerMetrics();
  const live = (f: (m: ServedModel) => number) => () =>
    models.map((m): [Record<string, string>, number] => [{ model: m.version.id }, f(m)]);
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
  const drafted = new Map<string, { d: number; a: number }>();
  for (const m of models) {
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
  }

  // Engines load in their threads while the HTTP server comes up (so liveness answers).
  const started = Promise.allSettled(models.map((m) => m.engine.start()));

  let accepting = false;
  const ctx: HttpContext = {
    models,
    metrics,
    env,
    ready: () => accepting && models.every((m) => m.engine.ready),
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
  log(
    'info',
    `listening on http://${env.WORKER_HOST}:${port} (loading ${models.length} model versions)`,
  );

  (await started).forEach((r, i) => {
    const m = models[i] as ServedModel;
    if (r.status === 'fulfilled') log('info', `${m.version.id} ready on ${m.engine.provider}`);
    else log('error', `${m.version.id} failed to load: ${String(r.reason)}`);
  });
  accepting = true;

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
    while (Date.now() < deadline && models.some((m) => m.engine.running + m.engine.queued > 0)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.all(models.map((m) => m.engine.stop()));
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
