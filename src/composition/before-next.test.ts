// The routes serve-next.mjs answers before Next.js's router: the public API's own answers through
// a real Node HTTP server, and a client that goes away aborts the request's signal.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { afterEach, expect, it } from 'vitest';
import { describeOnEachDatabase } from '~/test/databases';
import { nodeListener, routesBeforeNext, type NodeListener } from './before-next';

const servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A Node server that dispatches the way serve-next.mjs does, 404 for what Next would serve. */
async function serve(routes: Map<string, NodeListener>): Promise<string> {
  const server = http.createServer((req, res) => {
    const early = routes.get(`${req.method} ${req.url?.split('?')[0]}`);
    if (early) return void early(req, res);
    res.writeHead(404).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describeOnEachDatabase('routes before Next.js', ({ db }) => {
  it('answers a completion with the public API’s answers and error envelope', async () => {
    const base = await serve(routesBeforeNext(db));
    const post = (body: string, path = '/api/v1/suggestions/complete') =>
      fetch(`${base}${path}`, { method: 'POST', body });
    // The test process has no backends: the n-gram tier answers, and the Generation is stored.
    const ok = await post(
      JSON.stringify({
        featureId: 'inline-completion',
        unitId: 'u-early',
        textBefore: 'Thank you for',
      }),
    );
    expect(ok.status).toBe(200);
    const answer = (await ok.json()) as { generationId: string; tier: string };
    expect(answer).toMatchObject({ tier: 'ngram', text: ' your message.', recorded: true });
    await expect
      .poll(() => db().generation.findUnique({ where: { id: answer.generationId } }))
      .toMatchObject({ featureId: 'inline-completion', unitId: 'u-early', tier: 'ngram' });
    const bad = await post(JSON.stringify({ featureId: 'inline-completion', unitId: '' }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { code: 'BAD_REQUEST', fieldErrors: { unitId: expect.any(Array) } },
    });
    // Only the registered route: the rest stays Next.js's (here the stand-in 404).
    expect((await post('{}', '/api/v1/suggestions/rewrite')).status).toBe(404);
  });

  it('aborts the request’s signal when the client goes away', async () => {
    let aborted!: () => void;
    const sawAbort = new Promise<void>((resolve) => (aborted = resolve));
    const app = new Hono().post('/slow', async (c) => {
      c.req.raw.signal.addEventListener('abort', () => aborted());
      await sawAbort;
      return c.text('late');
    });
    const base = await serve(new Map([['POST /slow', nodeListener(app.fetch)]]));
    const client = new AbortController();
    const request = fetch(`${base}/slow`, { method: 'POST', body: '{}', signal: client.signal });
    await new Promise((r) => setTimeout(r, 100));
    client.abort();
    await expect(request).rejects.toThrow();
    await sawAbort; // (the test times out if the signal never aborts)
  });
});
