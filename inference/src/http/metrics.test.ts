/** /metrics (prom-client) from the real worker: requests by route and status, engine series. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postJson,
  startWorker,
  TESTDATA_MODELS,
  type WorkerProcess,
} from '../testing/worker-process';

let worker: WorkerProcess;

beforeAll(async () => {
  worker = await startWorker({ MODEL_REPOSITORY: TESTDATA_MODELS });
});

afterAll(async () => {
  if (worker) expect(await worker.stop()).toBe(0);
});

/** The value of one series (exact label set, in prom-client's order), or 0 when absent. */
async function series(name: string, labels: string): Promise<number> {
  const res = await fetch(`${worker.baseUrl}/metrics`);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return Number(line?.split(' ').pop() ?? 0);
}

describe('worker metrics', () => {
  it('counts requests by route pattern and status', async () => {
    const ok = 'route="/v1/completions",status="200"';
    const before = await series('worker_requests_total', ok);
    const body = { model: 'tiny-random', prompt: 'Emma', max_tokens: 2 };
    await Promise.all([1, 2, 3].map(() => postJson(worker.baseUrl, '/v1/completions', body)));
    await postJson(worker.baseUrl, '/v1/completions', { ...body, model: 'nope' });
    await postJson(worker.baseUrl, '/v1/chat/completions', { model: 'tiny-random' });
    await fetch(`${worker.baseUrl}/v2/models/tiny-random/versions/1/ready`);
    await fetch(`${worker.baseUrl}/no/such/route`);
    expect(await series('worker_requests_total', ok)).toBe(before + 3);
    expect(
      await series('worker_requests_total', 'route="/v1/completions",status="404"'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await series('worker_requests_total', 'route="/v1/chat/completions",status="400"'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await series('worker_requests_total', 'route="/v2/models/{name}/ready",status="200"'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await series('worker_requests_total', 'route="unmatched",status="404"'),
    ).toBeGreaterThanOrEqual(1);
  });

  it('keeps the engine and latency series, with live gauges per model', async () => {
    await postJson(worker.baseUrl, '/v1/completions', {
      model: 'tiny-random',
      prompt: 'It is a truth universally acknowledged',
      max_tokens: 8,
      ignore_eos: true,
    });
    const model = 'model="tiny-random/1"';
    expect(await series('worker_generation_tokens_total', model)).toBeGreaterThanOrEqual(8);
    expect(await series('worker_time_to_first_token_seconds_count', model)).toBeGreaterThan(0);
    expect(await series('worker_step_seconds_count', model)).toBeGreaterThan(0);
    expect(await series('worker_slots_in_use', model)).toBe(0);
    expect(await series('worker_queue_depth', model)).toBe(0);
    const text = await (await fetch(`${worker.baseUrl}/metrics`)).text();
    expect(text).toContain('# TYPE worker_batch_size histogram');
    expect(text).toContain('process_resident_memory_bytes');
  });
});
