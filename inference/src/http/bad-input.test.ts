/** Bad input and overload against the real worker: clear 4xx/503, and the worker stays up. */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postJson,
  startWorker,
  TESTDATA_MODELS,
  type WorkerProcess,
} from '../testing/worker-process';

let worker: WorkerProcess;
const MODEL = 'tiny-random';

beforeAll(async () => {
  worker = await startWorker({
    MODEL_REPOSITORY: TESTDATA_MODELS,
    WORKER_MAX_BATCH: '2',
    WORKER_MAX_QUEUE: '2',
    WORKER_MAX_BODY_BYTES: '65536',
  });
});
afterAll(async () => {
  if (!worker) return;
  const code = await worker.stop();
  // The worker must survive everything above and shut down cleanly; its log says why if not.
  if (code !== 0) console.error(worker.logs());
  expect(code).toBe(0);
});

interface Health {
  rss_bytes: number;
  models: { queue_depth: number; slots_in_use: number }[];
}
const health = async () => (await (await fetch(`${worker.baseUrl}/health`)).json()) as Health;

async function expectError(body: unknown, status: number, code: string | null, param?: string) {
  const res = await postJson(worker.baseUrl, '/v1/completions', body);
  expect(res.status).toBe(status);
  expect(res.json.error).toMatchObject({ code, ...(param ? { param } : {}) });
  expect(typeof res.json.error.message).toBe('string');
  expect(typeof res.json.error.type).toBe('string');
}

/** Sends raw bytes as the body (fetch would re-encode strings). */
function rawPost(route: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(route, worker.baseUrl);
    const req = http.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('bad input', () => {
  it('rejects malformed JSON, non-objects and invalid UTF-8', async () => {
    await expectError('{"model": "tiny-random", "prompt": ', 400, 'invalid_json');
    await expectError('', 400, 'invalid_json');
    await expectError([1, 2], 400, null);
    const invalid = await rawPost(
      '/v1/completions',
      Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    );
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text)).toMatchObject({ error: { code: 'invalid_utf8' } });
  });

  it('rejects unknown models, wrong types and out-of-range parameters', async () => {
    await expectError({ model: 'nope', prompt: 'x' }, 404, 'model_not_found', 'model');
    await expectError({ model: MODEL, prompt: 'x', max_tokens: 'ten' }, 400, null, 'max_tokens');
    await expectError({ model: MODEL, prompt: 'x', max_tokens: 0 }, 400, null, 'max_tokens');
    await expectError({ model: MODEL, prompt: 'x', max_tokens: 1e12 }, 400, null, 'max_tokens');
    await expectError(
      { model: MODEL, prompt: 'x', max_tokens: 100_000 },
      400,
      'context_length_exceeded',
      'max_tokens',
    );
    await expectError({ model: MODEL, prompt: 'x', temperature: 7 }, 400, null, 'temperature');
    await expectError({ model: MODEL, prompt: 42 }, 400, null, 'prompt');
    await expectError({ prompt: 'x' }, 400, null, 'model');
    await expectError({ model: MODEL, prompt: [999999] }, 400, null, 'prompt');
    const chat = await postJson(worker.baseUrl, '/v1/chat/completions', {
      model: MODEL,
      messages: [],
    });
    expect(chat.status).toBe(400);
    expect(chat.json.error.param).toBe('messages');
  });

  it('rejects empty prompts, prompts longer than the context and huge bodies', async () => {
    await expectError({ model: MODEL, prompt: '' }, 400, 'empty_prompt', 'prompt');
    await expectError({ model: MODEL, prompt: [] }, 400, null, 'prompt');
    await expectError(
      { model: MODEL, prompt: new Array(600).fill(17) },
      400,
      'context_length_exceeded',
      'prompt',
    );
    await expectError({ model: MODEL, prompt: 'x'.repeat(100_000) }, 413, 'body_too_large');
  });

  it('answers unknown routes and wrong methods', async () => {
    expect((await fetch(`${worker.baseUrl}/v1/nothing`)).status).toBe(404);
    expect((await fetch(`${worker.baseUrl}/v1/completions`)).status).toBe(405);
  });
});

describe('overload and disconnects', () => {
  it('answers 503 with Retry-After when the queue is full, 200 otherwise', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        postJson(worker.baseUrl, '/v1/completions', {
          model: MODEL,
          prompt: 'Emma',
          max_tokens: 60,
          temperature: 0,
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses).toContain(503);
    expect(statuses).toContain(200);
    const overloaded = results.find((r) => r.status === 503)!;
    expect(overloaded.headers.get('retry-after')).toBe('1');
    expect(overloaded.json.error.code).toBe('overloaded');
  });

  it('survives two thousand concurrent connections with bounded memory', async () => {
    const before = (await health()).rss_bytes;
    const results = await Promise.all(
      Array.from({ length: 2000 }, () =>
        postJson(worker.baseUrl, '/v1/completions', {
          model: MODEL,
          prompt: 'Emma',
          max_tokens: 2,
        }).then(
          (r) => r.status,
          () => 0,
        ),
      ),
    );
    expect(results.every((s) => s === 200 || s === 503)).toBe(true);
    const after = await health();
    expect(after.rss_bytes - before).toBeLessThan(512 * 1024 * 1024);
    expect(after.models[0]!.queue_depth).toBe(0);
  });

  it('frees the slot of a client that vanishes mid-stream', async () => {
    for (const stream of [true, false]) {
      const abort = new AbortController();
      const res = fetch(`${worker.baseUrl}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: MODEL,
          prompt: 'It is',
          max_tokens: 480,
          temperature: 0,
          stream,
          speculative: false,
        }),
        signal: abort.signal,
      });
      let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
      if (stream) {
        reader = (await res).body!.getReader();
        await reader.read(); // the first chunk arrived: generation is under way
      } else {
        while ((await health()).models[0]!.slots_in_use === 0)
          await new Promise((r) => setTimeout(r, 20));
      }
      abort.abort();
      await reader?.cancel().catch(() => undefined);
      await res.catch(() => undefined);
      let slots = 1;
      for (let i = 0; i < 500 && slots > 0; i++) {
        slots = (await health()).models[0]!.slots_in_use;
        if (slots > 0) await new Promise((r) => setTimeout(r, 20));
      }
      expect(slots).toBe(0);
    }
    const ok = await postJson(worker.baseUrl, '/v1/completions', {
      model: MODEL,
      prompt: 'Emma',
      max_tokens: 3,
    });
    expect(ok.status).toBe(200);
    const metrics = await (await fetch(`${worker.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/worker_errors_total\{type="client_disconnected"\} [1-9]/);
  });
});
