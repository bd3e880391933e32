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
const app = next({ dev: values.dev, dir: path.resolve(import.meta.dirname, '..'), port });
const handle = app.getRequestHandler();
await app.prepare();

// The few latency-critical routes the app registers at start-up (src/composition/before-next.ts)
// are answered by the app's own handler without Next.js's routing; until then Next.js serves them.
// Not in dev: the table holds the code of the start, and Next.js's routes follow each edit.
const beforeNextKey = Symbol.for('flywheel.routes-before-next');
const routesBeforeNext = () => (values.dev ? undefined : globalThis[beforeNextKey]);

const server = http.createServer((req, res) => {
  const peer = req.socket.remoteAddress ?? '';
  const sent = req.headers['x-forwarded-for'];
  req.headers['x-forwarded-for'] = [sent, peer].filter(Boolean).join(', ');
  const early = routesBeforeNext()?.get(`${req.method} ${req.url?.split('?')[0]}`);
  void (early ? early(req, res) : handle(req, res));
});
// Next.js dev upgrades its HMR socket through the same server.
if (values.dev)
  server.on('upgrade', (req, socket, head) => void app.getUpgradeHandler()(req, socket, head));
server.listen(port, () => console.log(`  ▲ Next.js ready on port ${port}`));

for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    server.close();
    void app.close?.().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 5_000).unref();
  });
