// Serves the Next.js app (what `next start` / `next dev` do) with one addition: the socket's peer
// address is always appended to X-Forwarded-For. Next.js only sets that header when the client
// sent none, so a client could otherwise name any address and slip past the per-address rate
// limits; the app trusts only the last TRUSTED_PROXY_HOPS + 1 entries (src/server/rate-limit.ts).
// Usage: node scripts/serve-next.mjs --port 3000 [--dev]
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import next from 'next';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '3000' }, dev: { type: 'boolean', default: false } },
});
const port = Number(values.port);
// Next.js hooks its own upgrade listener onto the server of its first request, and outside dev it
// ends every socket it has no rewrite for (ours too, right after our upgrade): give it a server
// of its own that never listens. In dev it keeps ours, for its HMR socket.
const app = next({
  dev: values.dev,
  dir: path.resolve(import.meta.dirname, '..'),
  port,
  ...(values.dev ? {} : { httpServer: http.createServer() }),
});
const handle = app.getRequestHandler();
await app.prepare();

// The few latency-critical routes the app registers at start-up (src/composition/before-next.ts)
// are answered by the app's own handler without Next.js's routing; until then Next.js serves them.
// Not in dev: the table holds the code of the start, and Next.js's routes follow each edit.
const beforeNextKey = Symbol.for('flywheel.routes-before-next');
const routesBeforeNext = () => (values.dev ? undefined : globalThis[beforeNextKey]);

const forwardPeer = (req) => {
  const peer = req.socket.remoteAddress ?? '';
  const sent = req.headers['x-forwarded-for'];
  req.headers['x-forwarded-for'] = [sent, peer].filter(Boolean).join(', ');
};
const server = http.createServer((req, res) => {
  forwardPeer(req);
  const early = routesBeforeNext()?.get(`${req.method} ${req.url?.split('?')[0]}`);
  void (early ? early(req, res) : handle(req, res));
});
// WebSockets: Next.js dev upgrades its HMR socket through the same server; otherwise only the
// app's registered sockets (the editor's suggestion socket), from the same start-up.
const upgradesKey = Symbol.for('flywheel.upgrades-before-next');
server.on('upgrade', (req, socket, head) => {
  if (values.dev) return void app.getUpgradeHandler()(req, socket, head);
  forwardPeer(req);
  const listener = globalThis[upgradesKey]?.get(req.url?.split('?')[0]);
  if (listener) listener(req, socket, head);
  else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
});
server.listen(port, () => console.log(`  ▲ Next.js ready on port ${port}`));

for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    server.close();
    void app.close?.().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 5_000).unref();
  });
