/**
 * Routes the Node server answers before Next.js's router. `npm start` serves Next.js through
 * scripts/serve-next.mjs, which looks each request's "METHOD /path" up in this process-wide table
 * first. What it finds is the public API itself (public-api.ts, the app Next.js's catch-all route
 * serves too), so the answer is the same and only Next.js's request handling is skipped: ~5 ms
 * of CPU per request on a small machine (measured), on the editor's suggestion path whose whole
 * budget is a few tens of milliseconds (bench:suggest). Until start-up has registered the table,
 * and under plain `next start`, Next.js serves these routes as before.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Db } from '~/server/db';
import { db } from '~/server/db';
import {
  SOCKET_PATH,
  suggestionsSocket,
  type UpgradeListener,
} from '~/features/suggestions/server/suggestions-socket';
import { createPublicApi } from './public-api';
import { createRequestContext } from './request-context';

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** The key serve-next.mjs reads on globalThis: a Map from "METHOD /path" to a listener. */
export const BEFORE_NEXT_KEY = Symbol.for('flywheel.routes-before-next');

/** Only the latency-critical ones: everything else keeps Next.js's request handling. */
export const ROUTES_BEFORE_NEXT = ['POST /api/v1/suggestions/complete'] as const;

/**
 * A Node request listener for a fetch handler. A client that goes away aborts the request's
 * signal (a newer keystroke cancels the worker's generation). Global Request and Response stay
 * Node's own: the adapter would otherwise swap in its lighter ones for the whole process.
 */
export function nodeListener(fetch: (req: Request) => Response | Promise<Response>): NodeListener {
  return getRequestListener(fetch, { overrideGlobalObjects: false });
}

export function routesBeforeNext(getDb: () => Db): Map<string, NodeListener> {
  const listener = nodeListener(createPublicApi(getDb).fetch);
  return new Map(ROUTES_BEFORE_NEXT.map((route) => [route, listener]));
}

/** The key serve-next.mjs reads for upgrades: a Map from path to an upgrade listener. */
export const UPGRADES_BEFORE_NEXT_KEY = Symbol.for('flywheel.upgrades-before-next');

/** The editor's suggestion socket (suggestions-socket.ts); Next.js has no WebSocket routes. */
export function upgradesBeforeNext(getDb: () => Db): Map<string, UpgradeListener> {
  const getUser = (headers: Headers) => createRequestContext(headers).getUser();
  return new Map([[SOCKET_PATH, suggestionsSocket({ getDb, getUser })]]);
}

/** At start-up: hands the tables to serve-next.mjs, which runs in this same process. */
export function serveBeforeNext(): void {
  (globalThis as Record<symbol, unknown>)[BEFORE_NEXT_KEY] = routesBeforeNext(db);
  (globalThis as Record<symbol, unknown>)[UPGRADES_BEFORE_NEXT_KEY] = upgradesBeforeNext(db);
}
