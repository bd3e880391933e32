import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface CapturedEvent {
  event: string;
  uuid: string;
  distinct_id: string;
  timestamp?: string;
  properties: Record<string, unknown>;
}

/**
 * A local stand-in for PostHog's capture API as posthog-node 5 calls it: POST /batch/ with a
 * gzip (or plain) JSON body `{ api_key, batch: [...], sent_at }`. It records every delivery raw,
 * without deduplicating, so a test sees any event that arrives twice.
 */
export async function startFakePostHog(options: { delayMs?: number } = {}) {
  const received: CapturedEvent[] = [];
  const apiKeys: string[] = [];
  let requests = 0;
  let failWith: number | null = null;
  let server: Server | null = null;
  let port = 0;

  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          requests++;
          const reply = () => {
            if (failWith !== null) {
              res.writeHead(failWith).end('unavailable');
              return;
            }
            if (req.method !== 'POST' || !req.url?.startsWith('/batch')) {
              res.writeHead(404).end();
              return;
            }
            const raw = Buffer.concat(chunks);
            const text = (
              req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw
            ).toString();
            const body = JSON.parse(text) as { api_key: string; batch: CapturedEvent[] };
            apiKeys.push(body.api_key);
            received.push(...body.batch);
            res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":1}');
          };
          if (options.delayMs) setTimeout(reply, options.delayMs);
          else reply();
        });
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as AddressInfo).port;
        resolve();
      });
    });
  await listen();

  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    received,
    apiKeys,
    get requests() {
      return requests;
    },
    /** Answer every request with this status (e.g. 503), or null to accept again. */
    failWith(status: number | null) {
      failWith = status;
    },
    /** Take the server down: connections are refused until start(). */
    async stop() {
      const s = server;
      server = null;
      if (!s) return;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeAllConnections();
      await closed;
    },
    /** Bring it back on the same port. */
    start: listen,
  };
}
export type FakePostHog = Awaited<ReturnType<typeof startFakePostHog>>;
