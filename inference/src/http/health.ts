/** GET /health, /v2/health/live, /v2/health/ready, /v2/models/<m>[/versions/<v>]/ready, /v1/models. */
import type { ServerResponse } from 'node:http';
import type { RegistryEntry } from '../models/registry';
import type { HttpContext } from './context';
import { ApiError, sendJson } from './errors';

function entryHealth(e: RegistryEntry) {
  const s = e.served;
  return {
    id: e.id,
    state: e.state,
    ready: e.state === 'READY' && s !== null && s.engine.ready,
    error: e.reason === '' ? null : e.reason,
    execution_provider: s?.engine.provider ?? null,
    provider_failures: s?.engine.providerFailures ?? [],
    precision: s?.precision ?? null,
    precision_note: s?.precisionNote ?? null,
    queue_depth: s?.engine.queued ?? 0,
    slots_in_use: s?.engine.running ?? 0,
    slots: s?.engine.options.maxBatch ?? 0,
    kv_layout: s?.engine.layout ?? null,
    context_length: s?.version.config.contextLength ?? null,
    digest: s?.version.config.digest ?? null,
  };
}

export function handleHealth(ctx: HttpContext, res: ServerResponse): void {
  const ready = ctx.ready();
  const models = ctx.registry.list().map(entryHealth);
  const failed = models.some((m) => m.state === 'UNAVAILABLE' && m.error !== 'unloaded');
  sendJson(res, ready ? 200 : 503, {
    // 'degraded': serving, but some version failed to load (see its `error`).
    status: !ctx.accepting() ? 'stopping' : !ready ? 'loading' : failed ? 'degraded' : 'ok',
    rss_bytes: process.memoryUsage().rss,
    models,
  });
}

export function handleLive(res: ServerResponse): void {
  sendJson(res, 200, { live: true });
}

export function handleReady(ctx: HttpContext, res: ServerResponse): void {
  const ready = ctx.ready();
  sendJson(res, ready ? 200 : 503, { ready });
}

/**
 * KServe v2 model readiness: 200 when ready, 503 with the state and reason when known but not
 * ready, 404 when unknown. Without a version, the highest ready version answers.
 */
export function handleModelReady(
  ctx: HttpContext,
  res: ServerResponse,
  name: string,
  version: string | null,
): void {
  const entry = ctx.registry.resolve(version === null ? name : `${name}/${version}`);
  if (!entry || entry.name !== name || (entry.unloaded && !entry.served)) {
    throw new ApiError(
      404,
      `no model '${name}'${version ? ` version ${version}` : ''}`,
      'invalid_request_error',
      'model_not_found',
    );
  }
  const h = entryHealth(entry);
  sendJson(res, h.ready ? 200 : 503, {
    name,
    ...(version === null ? {} : { version }),
    ready: h.ready,
    state: h.state,
    ...(h.error ? { reason: h.error } : {}),
  });
}

/**
 * OpenAI's model list holds what can serve now (clients and the app's router take `data` as
 * servable); versions loading, failed or unloaded are listed apart, with their reason.
 */
export function handleModels(ctx: HttpContext, res: ServerResponse): void {
  const entries = ctx.registry.list();
  const ready = entries.filter((e) => entryHealth(e).ready);
  const data = ready.flatMap((e) => {
    const latest = !ready.some((o) => o.name === e.name && o.version > e.version);
    const entry = (id: string) => ({
      id,
      object: 'model',
      created: 0,
      owned_by: 'flywheel',
      root: e.id,
      max_model_len: e.served?.version.config.contextLength ?? null,
    });
    return latest ? [entry(e.id), entry(e.name)] : [entry(e.id)];
  });
  const unavailable = entries
    .filter((e) => !ready.includes(e) && !e.unloaded)
    .map((e) => ({ id: e.id, state: e.state, reason: e.reason === '' ? null : e.reason }));
  sendJson(res, 200, { object: 'list', data, unavailable });
}
