// The gateway against the real inference worker (a process of its own, started once per file).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway, sentenceCut } from './gateway';
import { rendezvousOrder } from './rendezvous';
import {
  catalog,
  corpus,
  feature,
  pool,
  request,
  workerPerFile,
  waitFor,
} from './testing/gateway-fixtures';

const worker = workerPerFile();
let overloaded: Server;
let overloadedUrl: string;
let stalled: Server;
let stalledUrl: string;
const slotsInUse = async () => {
  const health = (await (await fetch(`${worker().baseUrl}/health`)).json()) as {
    models: { slots_in_use: number }[];
  };
  return health.models.reduce((s, m) => s + m.slots_in_use, 0);
};

beforeAll(async () => {
  // A backend that is always overloaded (503 + Retry-After, as the worker's admission control).
  overloaded = createServer((_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(
      JSON.stringify({ error: { message: 'queue full', type: 'overloaded', code: 'overloaded' } }),
    );
  });
  await new Promise<void>((r) => overloaded.listen(0, '127.0.0.1', r));
  overloadedUrl = `http://127.0.0.1:${(overloaded.address() as AddressInfo).port}`;
  // A backend that accepts the stream and then says nothing (a hung GPU, a stuck queue): only the
  // budget ends the wait, whatever the model would have written.
  stalled = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
  });
  await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
  stalledUrl = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`;
});
afterAll(async () => {
  if (overloaded) await new Promise((r) => overloaded.close(r));
  if (stalled) {
    stalled.closeAllConnections();
    await new Promise((r) => stalled.close(r));
  }
});

describe('gateway against the real worker', () => {
  it('answers from the primary model, with usage, TTFT and a trace id', async () => {
    const gateway = new Gateway(pool([worker().baseUrl]), catalog);
    // Usage arrives with the stream's last chunk; a completion cut at a sentence end has none.
    const f = feature({ stopAtSentenceEnd: false });
    const r = await gateway.suggest(request(f));
    expect(r).toMatchObject({
      tier: 'primary',
      error: null,
      aborted: false,
      backend: worker().baseUrl,
    });
    expect(r.model?.label).toBe('flywheel-teacher/1');
    expect(r.text.length).toBeGreaterThan(0);
    expect(r.completionTokens).toBeGreaterThan(0);
    expect(r.promptTokens).toBeGreaterThan(0);
    expect(r.ttftMs).toBeGreaterThan(0);
    expect(r.ttftMs!).toBeLessThanOrEqual(r.latencyMs);
    expect(r.traceId).toMatch(/^[0-9a-f]{32}$/);
    // Greedy and seeded: the same request gives the same text.
    expect((await gateway.suggest(request(f))).text).toBe(r.text);
  });

  it('streams deltas that add up to the text', async () => {
    const deltas: string[] = [];
    const gateway = new Gateway(pool([worker().baseUrl]), catalog);
    const r = await gateway.suggest(
      request(feature({ stopAtSentenceEnd: false }), { onDelta: (t) => deltas.push(t) }),
    );
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(r.text);
  });

  it('moves past an overloaded backend (503) to a healthy one', async () => {
    const urls = [overloadedUrl, worker().baseUrl];
    const p = pool(urls);
    // A unit whose home backend is the overloaded one.
    let unitId = '';
    for (let i = 0; !unitId; i++)
      if (rendezvousOrder(`u${i}`, urls, (u) => u)[0] === overloadedUrl) unitId = `u${i}`;
    const r = await new Gateway(p, catalog).suggest(request(feature({}), { unitId }));
    expect(r.tier).toBe('primary');
    expect(r.attempts[0]).toMatchObject({ backend: overloadedUrl, outcome: 'overloaded' });
    expect(p.status()[0]).toMatchObject({ consecutiveFailures: 1, state: 'closed' });
  });

  it('falls back to the n-gram tier when the budget runs out', async () => {
    const f = feature({
      latencyBudgetMs: 150,
      maxTokens: 200,
      stopAtSentenceEnd: false,
      ngramCorpus: corpus,
    });
    const t = performance.now();
    const r = await new Gateway(pool([stalledUrl]), catalog).suggest(request(f));
    expect(performance.now() - t).toBeLessThan(150 + 3000); // the budget, not the backend, ended it
    // (This test feature does not stop at a sentence end.)
    expect(r).toMatchObject({ tier: 'ngram', text: ' your message. I will get back to you soon.' });
    expect(r.attempts[0]).toMatchObject({ step: 'model:flywheel-teacher', outcome: 'timeout' });
    expect(r.attempts[1]).toMatchObject({ step: 'model:flywheel-student', outcome: 'skipped' });
  });

  it('propagates the caller’s abort to the worker and returns at once with nothing', async () => {
    const f = feature({
      maxTokens: 230,
      temperature: 1,
      stop: [],
      stopAtSentenceEnd: false,
      ngramCorpus: corpus,
    });
    const controller = new AbortController();
    const pending = new Gateway(pool([worker().baseUrl]), catalog).suggest(
      request(f, { signal: controller.signal }),
    );
    expect(await waitFor(async () => (await slotsInUse()) > 0, 5000)).toBe(true);
    const t = performance.now();
    controller.abort();
    const r = await pending;
    expect(performance.now() - t).toBeLessThan(2000); // far below 230 tokens of decoding
    expect(r).toMatchObject({ tier: 'none', text: '', aborted: true });
    expect(r.attempts[0]).toMatchObject({ outcome: 'aborted' });
    // The worker dropped the sequence: its slot is free long before 230 tokens were made.
    expect(await waitFor(async () => (await slotsInUse()) === 0, 1000)).toBe(true);
  });

  it('cuts an inline completion at the first sentence end', () => {
    expect(sentenceCut('and so it was. Then')).toBe('and so it was.');
    expect(sentenceCut('no end yet')).toBeNull();
  });

  it('with the worker killed, answers from the n-gram tier and opens the circuit', async () => {
    const p = pool([worker().baseUrl]);
    const gateway = new Gateway(p, catalog);
    const f = feature({ ngramCorpus: corpus });
    expect((await gateway.suggest(request(f))).tier).toBe('primary');
    worker().child.kill('SIGKILL');
    await new Promise((r) => worker().child.once('exit', r));
    const r = await gateway.suggest(request(f));
    expect(r).toMatchObject({ tier: 'ngram', text: ' your message.', aborted: false });
    expect(r.error).toMatch(/Connection error|ECONNREFUSED|fetch failed/i);
    // Two failures (teacher, student) reach the threshold: the next request skips the backend.
    expect(p.status()[0]).toMatchObject({ state: 'open', consecutiveFailures: 2 });
    const skipped = await gateway.suggest(request(f));
    expect(skipped.tier).toBe('ngram');
    expect(skipped.attempts[0]).toMatchObject({ outcome: 'skipped' });
    // Nothing to suggest at all: silence, not an error.
    const none = await gateway.suggest(request(f, { textBefore: 'qqq zzz', prompt: 'qqq zzz' }));
    expect(none).toMatchObject({ tier: 'none', text: '' });
  });
});
