import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchRetrying } from './fetch-retrying';

let server: http.Server | null = null;
afterEach(
  () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
);

/** A server that drops the connection of the first `drops` requests without answering. */
async function flakyServer(drops: number) {
  let seen = 0;
  const bodies: string[] = [];
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      bodies.push(body);
      if (seen++ < drops) return req.socket.destroy();
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"v2"}');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, bodies };
}

describe('fetchRetrying', () => {
  it('sends the request again on a new connection after the server closed the first', async () => {
    const { url, bodies } = await flakyServer(2);
    const retries: string[] = [];
    const response = await fetchRetrying(
      url,
      { method: 'POST', body: '{"name":"x"}' },
      { backoffMs: 1, onRetry: (why) => retries.push(why) },
    );
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ id: 'v2' });
    expect(retries).toHaveLength(2);
    expect(bodies).toEqual(['{"name":"x"}', '{"name":"x"}', '{"name":"x"}']);
  });

  it('gives up after its attempts, and never retries an HTTP answer', async () => {
    const { url } = await flakyServer(10);
    await expect(
      fetchRetrying(url, { method: 'POST', body: '{}' }, { attempts: 2, backoffMs: 1 }),
    ).rejects.toThrow();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = http.createServer((_, res) => res.writeHead(409).end('conflict'));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const conflict = await fetchRetrying(
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      { method: 'POST' },
      { backoffMs: 1 },
    );
    expect(conflict.status).toBe(409);
  });
});
