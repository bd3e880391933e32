/**
 * SIGTERM: in-flight generations finish, new ones are refused, the process exits 0; during
 * boot, the loading engine threads end and the process exits 0 as well.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  DEMO_MODELS,
  postJson,
  REPO_ROOT,
  startWorker,
  TESTDATA_MODELS,
} from './testing/worker-process';

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

describe('a signal while models load', () => {
  it('ends the loading engine threads and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'inference/src/index.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        MODEL_REPOSITORY: DEMO_MODELS,
        WORKER_PORT: '0',
        WORKER_EXECUTION_PROVIDERS: 'cpu',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    let url = '';
    while (!url) {
      url = /listening on (http:\/\/[\d.]+:\d+)/.exec(out)?.[1] ?? '';
      if (child.exitCode !== null) throw new Error(`worker exited early:\n${out}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    // Still loading: the signal arrives before any model is ready.
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(503);
    const signalled = Date.now();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    expect(code).toBe(0);
    expect(out).toContain('SIGTERM: draining');
    expect(out).toContain('[worker] stopped');
    expect(out).not.toMatch(/model versions ready/); // it never finished booting
    expect(Date.now() - signalled).toBeLessThan(10_000);
  });
});
