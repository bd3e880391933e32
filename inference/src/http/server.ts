/** The worker's HTTP server (node:http): routing, body parsing, errors, disconnects. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readJson } from './body';
import { handleChat } from './chat';
import { handleCompletions } from './completions';
import type { HttpContext } from './context';
import { ApiError, badRequest, sendError, toApiError } from './errors';
import { ClientGoneError } from './generate';
import { handleHealth, handleLive, handleModelReady, handleModels, handleReady } from './health';
import { handleRepositoryIndex, handleRepositoryLoad, handleRepositoryUnload } from './repository';

type PostHandler = typeof handleCompletions;

const POST_ROUTES: Record<string, PostHandler> = {
  '/v1/completions': handleCompletions,
  '/v1/chat/completions': handleChat,
};

const REPOSITORY_MODEL = /^\/v2\/repository\/models\/([^/]+)\/(load|unload)$/;
const MODEL_READY = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/ready$/;

const notAccepting = () =>
  new ApiError(503, 'worker is shutting down', 'server_error', 'not_ready', null, {
    'retry-after': '5',
  });

const methodNotAllowed = (url: string, allowed: string) =>
  new ApiError(405, `${url} accepts ${allowed}`, 'invalid_request_error', 'method_not_allowed');

function segment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw badRequest('malformed path segment');
  }
}

async function route(
  ctx: HttpContext,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const url = (req.url ?? '/').split('?')[0] ?? '/';
  const method = req.method ?? 'GET';
  const post = POST_ROUTES[url];
  if (post) {
    if (method !== 'POST') throw methodNotAllowed(url, 'POST');
    // Per-model readiness is checked when the model is resolved: a model still loading or
    // broken answers 503 for itself only.
    if (!ctx.accepting()) throw notAccepting();
    const body = await readJson(req, ctx.env.WORKER_MAX_BODY_BYTES);
    await post(ctx, body, res, req, signal);
    return;
  }
  if (url === '/v2/repository/index') {
    // Triton's verb is POST; GET is accepted too (the KServe docs show it).
    if (method !== 'POST' && method !== 'GET') throw methodNotAllowed(url, 'POST or GET');
    const body =
      method === 'POST' ? await readJson(req, ctx.env.WORKER_MAX_BODY_BYTES, true) : undefined;
    handleRepositoryIndex(ctx, body, res);
    return;
  }
  const repo = REPOSITORY_MODEL.exec(url);
  if (repo) {
    if (method !== 'POST') throw methodNotAllowed(url, 'POST');
    if (!ctx.accepting()) throw notAccepting();
    const name = segment(repo[1] as string);
    const body = await readJson(req, ctx.env.WORKER_MAX_BODY_BYTES, true);
    if (repo[2] === 'load') await handleRepositoryLoad(ctx, name, body, res);
    else await handleRepositoryUnload(ctx, name, body, res);
    return;
  }
  if (method !== 'GET' && method !== 'HEAD') {
    throw new ApiError(404, `no route ${method} ${url}`, 'invalid_request_error', 'not_found');
  }
  const ready = MODEL_READY.exec(url);
  if (ready) {
    const version = ready[2] === undefined ? null : segment(ready[2]);
    return handleModelReady(ctx, res, segment(ready[1] as string), version);
  }
  switch (url) {
    case '/health':
      return handleHealth(ctx, res);
    case '/v2/health/live':
      return handleLive(res);
    case '/v2/health/ready':
      return handleReady(ctx, res);
    case '/v1/models':
      return handleModels(ctx, res);
    case '/metrics': {
      const { registry } = ctx.metrics;
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
      return;
    }
    default:
      throw new ApiError(404, `no route ${method} ${url}`, 'invalid_request_error', 'not_found');
  }
}

const GET_ROUTES = new Set([
  '/health',
  '/v2/health/live',
  '/v2/health/ready',
  '/v1/models',
  '/metrics',
]);

/** The route pattern a URL matched, as a metric label (never the raw path: ids vary). */
function routeLabel(rawUrl: string | undefined): string {
  const url = (rawUrl ?? '/').split('?')[0] ?? '/';
  if (url in POST_ROUTES || GET_ROUTES.has(url) || url === '/v2/repository/index') return url;
  const repo = REPOSITORY_MODEL.exec(url);
  if (repo) return `/v2/repository/models/{name}/${repo[2]}`;
  if (MODEL_READY.test(url)) return '/v2/models/{name}/ready';
  return 'unmatched';
}

export function createWorkerServer(ctx: HttpContext): Server {
  const server = createServer((req, res) => {
    const abort = new AbortController();
    res.on('close', () => {
      const finished = res.writableFinished;
      if (!finished) abort.abort();
      // 499 (as nginx logs it): the client closed the connection before the answer ended.
      const status = finished ? String(res.statusCode) : '499';
      ctx.metrics.requests.inc({ route: routeLabel(req.url), status });
    });
    route(ctx, req, res, abort.signal)
      .catch((err: unknown) => {
        if (err instanceof ClientGoneError || abort.signal.aborted) {
          ctx.metrics.errors.inc({ type: 'client_disconnected' });
          res.destroy();
          return;
        }
        const apiErr = toApiError(err);
        if (apiErr.status >= 500 && !(err instanceof ApiError))
          console.error('[worker] internal error', err);
        ctx.metrics.errors.inc({ type: apiErr.code ?? apiErr.type });
        if (res.headersSent) res.end();
        else sendError(res, apiErr);
      })
      .catch((err: unknown) => {
        // Answering failed too (the socket broke while the error was written): drop the socket;
        // never let a rejection escape, which would take the whole worker down.
        console.error('[worker] could not answer', err);
        res.destroy();
      });
  });
  server.maxConnections = ctx.env.WORKER_MAX_CONNECTIONS;
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000; // receiving the request only; responses may stream longer
  server.keepAliveTimeout = 5_000;
  return server;
}
