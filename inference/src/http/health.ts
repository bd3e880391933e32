/** GET /health, /v2/health/live, /v2/health/ready and /v1/models. */
import type { ServerResponse } from 'node:http';
import type { HttpContext } from './context';
import { sendJson } from './errors';

export function handleHealth(ctx: HttpContext, res: ServerResponse): void {
  const ready = ctx.ready();
  sendJson(res, ready ? 200 : 503, {
    status: ready ? 'ok' : 'loading',
    rss_bytes: process.memoryUsage().rss,
    models: ctx.models.map((m) => ({
      id: m.version.id,
      ready: m.engine.ready,
      execution_provider: m.engine.provider,
      provider_failures: m.engine.providerFailures,
      queue_depth: m.engine.queued,
      slots_in_use: m.engine.running,
      slots: m.engine.options.maxBatch,
      context_length: m.version.config.contextLength,
      digest: m.version.config.digest,
    })),
  });
}

export function handleLive(res: ServerResponse): void {
  sendJson(res, 200, { live: true });
}

export function handleReady(ctx: HttpContext, res: ServerResponse): void {
  const ready = ctx.ready();
  sendJson(res, ready ? 200 : 503, { ready });
}

export function handleModels(ctx: HttpContext, res: ServerResponse): void {
  const data = ctx.models.flatMap((m) => {
    const latest = !ctx.models.some(
      (o) => o.version.name === m.version.name && o.version.version > m.version.version,
    );
    const entry = (id: string) => ({
      id,
      object: 'model',
      created: 0,
      owned_by: 'flywheel',
      root: m.version.id,
      max_model_len: m.version.config.contextLength,
    });
    return latest ? [entry(m.version.id), entry(m.version.name)] : [entry(m.version.id)];
  });
  sendJson(res, 200, { object: 'list', data });
}
