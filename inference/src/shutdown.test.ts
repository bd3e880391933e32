/** SIGTERM: in-flight generations finish, new ones are refused, the process exits 0. */
import { describe, expect, it } from 'vitest';
import { postJson, startWorker, TESTDATA_MODELS } from './testing/worker-process';

describe('graceful shutdown', () => {
  it('drains in-flight requests before exiting', async () => {
    const worker = await startWorker({ MODEL_REPOSITORY: TESTDATA_MODELS });
    const body = {
      model: 'tiny-random',
      prompt: 'It is',
      max_tokens: 300,
      temperature: 0,
      speculative: false,
      ignore_eos: true,
    };
    const inflight = postJson(worker.baseUrl, '/v1/completions', body);
    for (;;) {
      const health = (await (await fetch(`${worker.baseUrl}/health`)).json()) as {
        models: { slots_in_use: number }[];
      };
      if (health.models[0]!.slots_in_use > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const exited = worker.stop();
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(res.json.usage.completion_tokens).toBe(300);
    const late = await postJson(worker.baseUrl, '/v1/completions', body).then(
      (r) => r.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);
    expect(await exited).toBe(0);
  });
});
