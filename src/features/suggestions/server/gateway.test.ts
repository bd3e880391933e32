// The gateway against the real inference worker (a process of its own, started once per file).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODELS, startWorker, type WorkerProcess } from '~/test/worker-process';
import { BackendPool } from './backend-pool';
import { FEATURES, type FeatureDeclaration } from './feature-registry';
import { Gateway, sentenceCut, type GatewayRequest, type GatewayResult } from './gateway';
import { StaticModelCatalog } from './model-catalog';
import { rendezvousOrder } from './rendezvous';

const catalog = new StaticModelCatalog(
  ['flywheel-teacher', 'flywheel-student'].map((name) => ({
    id: null,
    name,
    version: '1',
    backendModel: `${name}/1`,
    label: `${name}/1`,
  })),
);
// Test features: generous budgets (CI machines are shared), long outputs where time matters.
const feature = (over: Partial<FeatureDeclaration>): FeatureDeclaration => ({
  ...FEATURES['inline-completion'],
  latencyBudgetMs: 10_000,
  ...over,
});
const corpus = 'Thank you for your message. I will get back to you soon.';
const request = (f: FeatureDeclaration, over: Partial<GatewayRequest> = {}): GatewayRequest => ({
  feature: f,
  unitId: 'unit-1',
  prompt: 'Thank you for',
  maxTokens: f.maxTokens,
  textBefore: 'Thank you for',
  textAfter: '',
  seed: 42,
  ...over,
});
const pool = (urls: string[]) => new BackendPool(urls, { failureThreshold: 2, cooldownMs: 60_000 });

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

let worker: WorkerProcess;
let overloaded: Server;
let overloadedUrl: string;
let stalled: Server;
let stalledUrl: string;
const slotsInUse = async () => {
  const health = (await (await fetch(`${worker.baseUrl}/health`)).json()) as {
    models: { slots_in_use: number }[];
  };
  return health.models.reduce((s, m) => s + m.slots_in_use, 0);
};

beforeAll(async () => {
  // (The helper reads the "listening on" line, so the worker logs at its default level.)
  worker = await startWorker({ MODEL_REPOSITORY: DEMO_MODELS });
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
  await worker?.stop();
  if (overloaded) await new Promise((r) => overloaded.close(r));
  if (stalled) {
    stalled.closeAllConnections();
    await new Promise((r) => stalled.close(r));
  }
});

// Before the suite below, whose last test kills the worker.
describe('a tier that fails mid-stream', () => {
  it('resets what it streamed before the next tier streams', async () => {
    // Streams one chunk, then drops the connection (a worker killed mid-answer).
    const breaking = createServer((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [] }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = {
        id: 'c',
        object: 'text_completion',
        choices: [{ index: 0, text: ' BROKEN' }],
      };
      res.write(`data: ${JSON.stringify(chunk)}\n\n`, () => setTimeout(() => res.destroy(), 20));
    });
    await new Promise<void>((r) => breaking.listen(0, '127.0.0.1', r));
    const breakingUrl = `http://127.0.0.1:${(breaking.address() as AddressInfo).port}`;
    try {
      // The teacher is served only by the breaking backend, the student by the real worker.
      const split = new StaticModelCatalog([
        {
          id: null,
          name: 'flywheel-teacher',
          version: '1',
          backendModel: 'flywheel-teacher/1',
          label: 'flywheel-teacher/1',
        },
        {
          id: null,
          name: 'flywheel-student',
          version: '1',
          backendModel: 'flywheel-student/1',
          label: 'flywheel-student/1',
        },
      ]);
      const p = pool([breakingUrl, worker.baseUrl]);
      p.backends[0]!.models = new Set(['flywheel-teacher/1']);
      p.backends[1]!.models = new Set(['flywheel-student/1']);
      const events: string[] = [];
      const r = await new Gateway(p, split).suggest(
        request(feature({ stopAtSentenceEnd: false }), {
          onDelta: (t) => events.push(t),
          onReset: () => events.push('<reset>'),
        }),
      );
      expect(r.tier, JSON.stringify(r.attempts)).toBe('fallback_model');
      expect(events[0]).toBe(' BROKEN');
      expect(events[1]).toBe('<reset>');
      // After the reset, the deltas are exactly the answer.
      expect(events.slice(2).join('')).toBe(r.text);
    } finally {
      breaking.closeAllConnections();
      await new Promise((r) => breaking.close(r));
    }
  });
});

describe('token counts of a completion that ends at a sentence end', () => {
  // Prompts ending in a space (as typed): the demo models often write past a sentence end there.
  const candidates = [
    'Hello! How ',
    'It is done. It is done. It is ',
    'Yes. No. Maybe ',
    'OK. Thanks ',
  ];
  const f = feature({});
  const direct = async (model: string, prompt: string, extra: Record<string, unknown> = {}) => {
    const res = await fetch(`${worker.baseUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        prompt,
        max_tokens: f.maxTokens,
        temperature: f.temperature,
        seed: 42,
        stop: f.stop,
        ...extra,
      }),
    });
    return (await res.json()) as {
      choices: { text: string }[];
      usage: { prompt_tokens: number; completion_tokens: number };
    };
  };
  /** A prompt and model whose greedy answer goes on past its first sentence end. */
  const pastSentenceEnd = async () => {
    for (const model of ['flywheel-teacher', 'flywheel-student'])
      for (const prompt of candidates) {
        const { choices } = await direct(`${model}/1`, prompt);
        const cut = sentenceCut(choices[0]!.text);
        if (cut !== null && cut !== choices[0]!.text) return { model, prompt, cut };
      }
    throw new Error('no candidate prompt writes past a sentence end; add one');
  };
  const onlyModel = (model: string) =>
    new StaticModelCatalog([
      {
        id: null,
        name: 'flywheel-teacher',
        version: '1',
        backendModel: `${model}/1`,
        label: `${model}/1`,
      },
    ]);
  const countsOf = async (r: GatewayResult) =>
    r.laterUsage
      ? await r.laterUsage
      : { promptTokens: r.promptTokens, completionTokens: r.completionTokens };

  it('cut by the gateway, the rest of the stream still brings the usage', async () => {
    const { model, prompt, cut } = await pastSentenceEnd();
    const p = pool([worker.baseUrl]);
    p.backends[0]!.keepsStopStrings = false; // as a backend that strips stop strings
    const r = await new Gateway(p, onlyModel(model)).suggest(
      request(f, { prompt, textBefore: prompt }),
    );
    expect(r).toMatchObject({ tier: 'primary', text: cut });
    expect(r.laterUsage).not.toBeNull(); // answered at the cut, before the usage chunk
    // The counts of the whole generation, as the worker reports them for the same request.
    const { usage } = await direct(`${model}/1`, prompt);
    expect(await countsOf(r)).toEqual({
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
    });
  });

  it('where the worker keeps stop strings, the sentence end is its stop and counts come with it', async () => {
    const { model, prompt, cut } = await pastSentenceEnd();
    const p = pool([worker.baseUrl]);
    const backend = p.backends[0]!;
    p.probeStopStrings(backend, `${model}/1`);
    expect(await waitFor(() => Promise.resolve(backend.keepsStopStrings !== null), 5000)).toBe(
      true,
    );
    expect(backend.keepsStopStrings).toBe(true);
    const r = await new Gateway(p, onlyModel(model)).suggest(
      request(f, { prompt, textBefore: prompt }),
    );
    // The same suggestion as when the gateway cuts it …
    expect(r).toMatchObject({ tier: 'primary', text: cut });
    // … and the worker stopped there: its usage counts only the tokens up to the sentence end.
    const stopped = await direct(`${model}/1`, prompt, {
      stop: [...f.stop, '. ', '! ', '? '],
      include_stop_str_in_output: true,
    });
    expect(stopped.choices[0]!.text.startsWith(cut)).toBe(true);
    const { usage } = await direct(`${model}/1`, prompt);
    expect(stopped.usage.completion_tokens).toBeLessThan(usage.completion_tokens);
    expect(await countsOf(r)).toEqual({
      promptTokens: stopped.usage.prompt_tokens,
      completionTokens: stopped.usage.completion_tokens,
    });
  });

  it('a backend that strips stop strings is probed as such', async () => {
    // Speaks the OpenAI completions format and, as OpenAI and llama.cpp do, drops the stop.
    const stripping = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw) as { stop?: string[] };
        const text = body.stop?.includes(' sunny') ? '' : ' sunny';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'cmpl-1',
            object: 'text_completion',
            created: 0,
            model: 'm',
            choices: [{ index: 0, text, logprobs: null, finish_reason: 'stop' }],
            usage: { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 },
          }),
        );
      });
    });
    await new Promise<void>((r) => stripping.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(stripping.address() as AddressInfo).port}`;
      const p = pool([url]);
      const backend = p.backends[0]!;
      expect(backend.keepsStopStrings).toBeNull(); // unknown until probed
      p.probeStopStrings(backend, 'm');
      expect(await waitFor(() => Promise.resolve(backend.keepsStopStrings !== null), 5000)).toBe(
        true,
      );
      expect(backend.keepsStopStrings).toBe(false);
    } finally {
      await new Promise((r) => stripping.close(r));
    }
  });
});

describe('a backend that rejects truncate_prompt_tokens', () => {
  it('gets later requests without it, after one request moved on', async () => {
    // Answers as OpenAI does to an argument it does not know; otherwise streams " sunny".
    const bodies: Record<string, unknown>[] = [];
    const strict = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw) as Record<string, unknown>;
        bodies.push(body);
        if ('truncate_prompt_tokens' in body) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              error: {
                message: 'Unrecognized request argument supplied: truncate_prompt_tokens',
                type: 'invalid_request_error',
                param: null,
                code: null,
              },
            }),
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (text: string, finish: string | null) =>
          `data: ${JSON.stringify({ id: 'c', object: 'text_completion', created: 0, model: 'm', choices: [{ index: 0, text, logprobs: null, finish_reason: finish }] })}\n\n`;
        res.end(`${chunk(' sunny', null)}${chunk('', 'length')}data: [DONE]\n\n`);
      });
    });
    await new Promise<void>((r) => strict.listen(0, '127.0.0.1', r));
    try {
      const p = pool([`http://127.0.0.1:${(strict.address() as AddressInfo).port}`]);
      const gateway = new Gateway(p, catalog);
      const f = feature({ stopAtSentenceEnd: false });
      const first = await gateway.suggest(request(f));
      expect(first.tier).not.toBe('primary');
      expect(p.backends[0]!.takesPromptTruncation).toBe(false);
      const second = await gateway.suggest(request(f));
      expect(second).toMatchObject({ tier: 'primary', text: ' sunny' });
      expect(bodies[0]).toHaveProperty('truncate_prompt_tokens', -1);
      expect(bodies.at(-1)).not.toHaveProperty('truncate_prompt_tokens');
      // A rejection is not the backend's fault: its circuit stays closed.
      expect(p.backends[0]!.breaker.snapshot().state).toBe('closed');
    } finally {
      strict.closeAllConnections();
      await new Promise((r) => strict.close(r));
    }
  });
});

describe('gateway against the real worker', () => {
  it('answers from the primary model, with usage, TTFT and a trace id', async () => {
    const gateway = new Gateway(pool([worker.baseUrl]), catalog);
    // Usage arrives with the stream's last chunk; a completion cut at a sentence end has none.
    const f = feature({ stopAtSentenceEnd: false });
    const r = await gateway.suggest(request(f));
    expect(r).toMatchObject({
      tier: 'primary',
      error: null,
      aborted: false,
      backend: worker.baseUrl,
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
    const gateway = new Gateway(pool([worker.baseUrl]), catalog);
    const r = await gateway.suggest(
      request(feature({ stopAtSentenceEnd: false }), { onDelta: (t) => deltas.push(t) }),
    );
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(r.text);
  });

  it('moves past an overloaded backend (503) to a healthy one', async () => {
    const urls = [overloadedUrl, worker.baseUrl];
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
    const pending = new Gateway(pool([worker.baseUrl]), catalog).suggest(
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
    const p = pool([worker.baseUrl]);
    const gateway = new Gateway(p, catalog);
    const f = feature({ ngramCorpus: corpus });
    expect((await gateway.suggest(request(f))).tier).toBe('primary');
    worker.child.kill('SIGKILL');
    await new Promise((r) => worker.child.once('exit', r));
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
