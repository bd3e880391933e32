// The editor's suggestion socket through a real Node server (upgraded as scripts/serve-next.mjs
// does), on both databases, with the real worker as the backend: the same answers and refusals
// as POST /complete, a cancel that aborts the generation, and bad input that leaves it usable.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { errorResponse } from '~/server/http/error-response';
import { describeOnEachDatabase } from '~/test/databases';
import { DEMO_MODELS, startWorker, type WorkerProcess } from '~/test/worker-process';
import { BackendPool } from './backend-pool';
import { suggestionsApi, type SuggestionsApiDeps } from './suggestions-api';
import { createSuggestionRuntime, type SuggestionRuntime } from './suggestions-runtime';
import { MAX_MESSAGE_BYTES, SOCKET_PATH, suggestionsSocket } from './suggestions-socket';

let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorker({ MODEL_REPOSITORY: DEMO_MODELS });
});
afterAll(async () => {
  await worker?.stop();
});

const servers: http.Server[] = [];
const sockets: WebSocket[] = [];
afterEach(() => {
  for (const ws of sockets.splice(0)) ws.terminate();
  for (const s of servers.splice(0)) s.close();
});

/** A Node server that upgrades the way serve-next.mjs does (the peer appended to X-F-F). */
async function serve(deps: SuggestionsApiDeps): Promise<string> {
  const listener = suggestionsSocket(deps);
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    const sent = req.headers['x-forwarded-for'];
    req.headers['x-forwarded-for'] = [sent, req.socket.remoteAddress].filter(Boolean).join(', ');
    if (req.url === SOCKET_PATH) listener(req, socket, head);
    else socket.destroy();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}${SOCKET_PATH}`;
}

type Answer = { id: string | null; result?: Record<string, unknown>; error?: { code: string } };

/** A client that reads answers in order. */
async function connect(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  sockets.push(ws);
  const answers: Answer[] = [];
  const waiting: ((a: Answer) => void)[] = [];
  ws.on('message', (data) => {
    const answer = JSON.parse((data as Buffer).toString('utf8')) as Answer;
    const next = waiting.shift();
    if (next) next(answer);
    else answers.push(answer);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const next = () =>
    new Promise<Answer>((resolve) => {
      const queued = answers.shift();
      if (queued) resolve(queued);
      else waiting.push(resolve);
    });
  const ask = (message: unknown) => {
    ws.send(typeof message === 'string' ? message : JSON.stringify(message));
    return next();
  };
  return { ws, ask, next };
}

describeOnEachDatabase('suggestion socket', ({ db }) => {
  let rt: SuggestionRuntime;
  beforeAll(async () => {
    rt = createSuggestionRuntime(
      db(),
      new BackendPool([worker.baseUrl], { failureThreshold: 5, cooldownMs: 5000 }),
    );
    await rt.refreshModels();
    await fetch(`${worker.baseUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flywheel-teacher/1', prompt: 'Thank you for', max_tokens: 4 }),
    });
  });
  const deps = (allowAnonymousWrite = true): SuggestionsApiDeps => ({
    getDb: db,
    getUser: () => Promise.resolve(null),
    runtime: () => rt,
    allowAnonymousWrite,
  });
  const input = { featureId: 'inline-completion', unitId: 'u-socket', textBefore: 'Thank you for' };

  it('answers as POST /complete does, and bad messages with its error envelope', async () => {
    const { ask } = await connect(await serve(deps()));
    const answer = await ask({ type: 'complete', id: 'a1', input });
    const http = await suggestionsApi(deps())
      .onError((error) => errorResponse(error))
      .request('/complete', { method: 'POST', body: JSON.stringify(input) });
    const {
      generationId: _g,
      latencyMs: _l,
      ...same
    } = (await http.json()) as Record<string, unknown>;
    expect(answer).toMatchObject({ id: 'a1', result: { ...same, recorded: true } });
    expect(answer.result).toMatchObject({ tier: 'primary', modelVersion: 'flywheel-teacher/1' });
    await expect
      .poll(() =>
        db().generation.findUnique({ where: { id: answer.result!.generationId as string } }),
      )
      .toMatchObject({ unitId: 'u-socket', tier: 'primary', error: null });

    // Each refusal in the public API's envelope, and the socket keeps answering.
    expect(await ask('{not json')).toMatchObject({ id: null, error: { code: 'BAD_REQUEST' } });
    expect(await ask({ type: 'sing', id: 'b1' })).toMatchObject({
      id: 'b1',
      error: { code: 'BAD_REQUEST', message: expect.stringContaining('type') },
    });
    expect(
      await ask({ type: 'complete', id: 'b2', input: { ...input, unitId: '' } }),
    ).toMatchObject({
      id: 'b2',
      error: { code: 'BAD_REQUEST', fieldErrors: { unitId: expect.any(Array) } },
    });
    expect(
      await ask({ type: 'complete', id: 'b3', input: { ...input, featureId: 'nope' } }),
    ).toMatchObject({ id: 'b3', error: { code: 'NOT_FOUND' } });
    expect(
      await ask({ type: 'complete', id: 'b4', input: { ...input, textBefore: 'a\u0000b' } }),
    ).toMatchObject({ id: 'b4', error: { code: 'BAD_REQUEST' } });
    expect(await ask({ type: 'complete', id: 'a2', input })).toMatchObject({
      id: 'a2',
      result: { tier: 'primary' },
    });
  });

  it('closes only the socket that sends more than the message limit', async () => {
    const url = await serve(deps());
    const big = await connect(url);
    const other = await connect(url);
    const closed = new Promise<number>((resolve) => big.ws.once('close', resolve));
    big.ws.send('x'.repeat(MAX_MESSAGE_BYTES + 1));
    expect(await closed).toBe(1009);
    expect(await other.ask({ type: 'complete', id: 'c1', input })).toMatchObject({
      result: { tier: 'primary' },
    });
  });

  it('aborts the generation of a cancelled request and answers the newer one', async () => {
    const { ws, next } = await connect(await serve(deps()));
    const unitId = `u-cancel-${Date.now()}`;
    ws.send(JSON.stringify({ type: 'complete', id: 'old', input: { ...input, unitId } }));
    ws.send(JSON.stringify({ type: 'cancel', id: 'old' }));
    ws.send(JSON.stringify({ type: 'complete', id: 'new', input: { ...input, unitId } }));
    // The cancelled request gets no answer: the first one is the newer request's.
    expect(await next()).toMatchObject({ id: 'new', result: { tier: 'primary' } });
    await expect
      .poll(() => db().generation.findMany({ where: { unitId }, orderBy: { createdAt: 'asc' } }))
      .toEqual([
        expect.objectContaining({ tier: 'none', error: 'aborted by the caller' }),
        expect.objectContaining({ tier: 'primary', error: null }),
      ]);
  });

  it('limits requests in flight per socket', async () => {
    const { ws, next } = await connect(await serve(deps()));
    for (let i = 0; i < 5; i++)
      ws.send(
        JSON.stringify({ type: 'complete', id: `f${i}`, input: { ...input, unitId: 'u-f' } }),
      );
    // The fifth is refused at once; the four others are answered.
    expect(await next()).toMatchObject({ id: 'f4', error: { code: 'TOO_MANY_REQUESTS' } });
    const rest = await Promise.all([next(), next(), next(), next()]);
    expect(rest.map((a) => a.id).sort()).toEqual(['f0', 'f1', 'f2', 'f3']);
  });

  it('applies the end-user rule and rate limits to each message', async () => {
    // Without ALLOW_ANONYMOUS_WRITE: the session of the upgrade's cookie, or UNAUTHORIZED.
    const cookies: (string | null)[] = [];
    const signedIn = (user: { id: string } | null): SuggestionsApiDeps => ({
      ...deps(false),
      getUser: (headers) => {
        cookies.push(headers.get('cookie'));
        return Promise.resolve(user);
      },
    });
    const anonymous = await connect(await serve(signedIn(null)));
    expect(await anonymous.ask({ type: 'complete', id: 'u1', input })).toMatchObject({
      id: 'u1',
      error: { code: 'UNAUTHORIZED' },
    });
    const user = await connect(await serve(signedIn({ id: `user-${Date.now()}` })), {
      cookie: 'session=abc',
    });
    expect(await user.ask({ type: 'complete', id: 'u2', input })).toMatchObject({
      result: { tier: 'primary' },
    });
    expect(cookies).toEqual([null, 'session=abc']);

    // The per-unit limit (RATE_LIMIT_PER_UNIT_PER_MINUTE, 1200 by default) counts every message,
    // refused input included, as POST /complete counts every request.
    const { ask } = await connect(await serve(deps()));
    const unitId = `u-limit-${Date.now()}`;
    let refused: Answer | undefined;
    for (let i = 0; i < 1300 && !refused; i++) {
      const answer = await ask({ type: 'complete', id: `l${i}`, input: { unitId } });
      if (answer.error?.code === 'TOO_MANY_REQUESTS') refused = { ...answer, id: String(i) };
      else expect(answer.error?.code).toBe('BAD_REQUEST');
    }
    expect(refused).toMatchObject({
      id: '1200',
      error: { message: expect.stringContaining('unit') },
    });
  });

  it('refuses a browser page of another origin', async () => {
    const url = await serve(deps());
    await expect(connect(url, { origin: 'https://evil.example' })).rejects.toThrow(/403/);
    const own = await connect(url, {
      origin: url.replace('ws:', 'http:').replace(SOCKET_PATH, ''),
    });
    expect(own.ws.readyState).toBe(WebSocket.OPEN);
  });
});
