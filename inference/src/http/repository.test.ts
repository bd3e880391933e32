/**
 * Broken model folders next to good ones, per-model readiness, and the repository API
 * (index, load, reload, unload) under concurrent traffic, against the real worker process.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postJson,
  startWorker,
  TESTDATA_MODELS,
  type WorkerProcess,
} from '../testing/worker-process';

const GOOD = path.join(TESTDATA_MODELS, 'tiny-random', '1');

interface Entry {
  name: string;
  version: string;
  state: string;
  reason: string;
}
interface HealthJson {
  status: string;
  models: { id: string; state: string; ready: boolean; error: string | null }[];
}
interface ModelsJson {
  data: { id: string; root: string }[];
  unavailable: { id: string; state: string; reason: string | null }[];
}

/** A scratch repository: two good models, a truncated model.onnx and a bad config.json. */
function makeRepository(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'fw-repo-'));
  cpSync(GOOD, path.join(root, 'alpha', '1'), { recursive: true });
  cpSync(GOOD, path.join(root, 'beta', '1'), { recursive: true });
  const truncated = path.join(root, 'truncated', '1');
  cpSync(GOOD, truncated, { recursive: true });
  writeFileSync(
    path.join(truncated, 'model.onnx'),
    readFileSync(path.join(GOOD, 'model.onnx')).subarray(0, 4096),
  );
  const badConfig = path.join(root, 'bad-config', '1');
  cpSync(GOOD, badConfig, { recursive: true });
  writeFileSync(path.join(badConfig, 'config.json'), '{"max_position_embeddings": "many"');
  return root;
}

const get = async <T>(w: WorkerProcess, route: string) => {
  const res = await fetch(`${w.baseUrl}${route}`);
  return { status: res.status, json: (await res.json()) as T };
};

const complete = (w: WorkerProcess, model: string, maxTokens = 8, extra = {}) =>
  postJson(w.baseUrl, '/v1/completions', {
    model,
    prompt: 'It is a truth universally acknowledged',
    max_tokens: maxTokens,
    temperature: 0,
    ignore_eos: true,
    ...extra,
  });

/** Requests to `model` from `streams` loops until stopped; every status is recorded. */
function traffic(w: WorkerProcess, model: string, streams = 4) {
  const statuses: number[] = [];
  const errors: string[] = [];
  let running = true;
  const loops = Array.from({ length: streams }, async (_, s) => {
    for (let i = 0; running; i++) {
      const res = await complete(w, model, 4 + ((s + i) % 12), { stream: (s + i) % 2 === 0 });
      statuses.push(res.status);
      if (res.status !== 200) errors.push(JSON.stringify(res.json));
    }
  });
  return {
    statuses,
    errors,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('model repository', () => {
  let root: string;
  let worker: WorkerProcess;

  beforeAll(async () => {
    root = makeRepository();
    worker = await startWorker({ MODEL_REPOSITORY: root, WORKER_MAX_BATCH: '8' });
  });
  afterAll(async () => {
    if (worker) expect(await worker.stop()).toBe(0);
    rmSync(root, { recursive: true, force: true });
  });

  it('reports broken folders with their reason and serves the others', async () => {
    expect((await fetch(`${worker.baseUrl}/v2/health/ready`)).status).toBe(200);
    const health = await get<HealthJson>(worker, '/health');
    expect(health.status).toBe(200);
    expect(health.json.status).toBe('degraded');
    const byId = Object.fromEntries(health.json.models.map((m) => [m.id, m]));
    expect(byId['alpha/1']).toMatchObject({ state: 'READY', ready: true, error: null });
    expect(byId['beta/1']).toMatchObject({ state: 'READY', ready: true });
    expect(byId['truncated/1']).toMatchObject({ state: 'UNAVAILABLE', ready: false });
    expect(byId['truncated/1']!.error).toMatch(/\S/);
    expect(byId['bad-config/1']).toMatchObject({ state: 'UNAVAILABLE', ready: false });
    expect(byId['bad-config/1']!.error).toMatch(/config\.json/);

    const models = await get<ModelsJson>(worker, '/v1/models');
    expect(models.json.data.map((m) => m.id).sort()).toEqual([
      'alpha',
      'alpha/1',
      'beta',
      'beta/1',
    ]);
    expect(models.json.unavailable.map((m) => m.id).sort()).toEqual([
      'bad-config/1',
      'truncated/1',
    ]);
    expect(models.json.unavailable.every((m) => m.state === 'UNAVAILABLE' && m.reason)).toBe(true);

    expect((await complete(worker, 'alpha')).status).toBe(200);
    const broken = await complete(worker, 'truncated');
    expect(broken.status).toBe(503);
    expect(broken.json.error.code).toBe('model_unavailable');
    expect(broken.json.error.message).toContain('failed to load');
  });

  it('answers readiness per model, KServe v2 style', async () => {
    expect((await fetch(`${worker.baseUrl}/v2/models/alpha/ready`)).status).toBe(200);
    expect((await fetch(`${worker.baseUrl}/v2/models/alpha/versions/1/ready`)).status).toBe(200);
    expect((await fetch(`${worker.baseUrl}/v2/models/alpha/versions/7/ready`)).status).toBe(404);
    const bad = await get<{ ready: boolean; state: string; reason: string }>(
      worker,
      '/v2/models/truncated/ready',
    );
    expect(bad.status).toBe(503);
    expect(bad.json).toMatchObject({ ready: false, state: 'UNAVAILABLE' });
    expect((await fetch(`${worker.baseUrl}/v2/models/nothing/ready`)).status).toBe(404);
  });

  it('lists the repository index (POST as Triton, GET too), ready-only on request', async () => {
    const all = await postJson<Entry[]>(worker.baseUrl, '/v2/repository/index', '');
    expect(all.status).toBe(200);
    expect(all.json.map((e) => `${e.name}/${e.version}:${e.state}`)).toEqual([
      'alpha/1:READY',
      'bad-config/1:UNAVAILABLE',
      'beta/1:READY',
      'truncated/1:UNAVAILABLE',
    ]);
    const ready = await postJson<Entry[]>(worker.baseUrl, '/v2/repository/index', { ready: true });
    expect(ready.json.map((e) => e.name)).toEqual(['alpha', 'beta']);
    expect((await get<Entry[]>(worker, '/v2/repository/index')).json).toHaveLength(4);
    const bad = await postJson(worker.baseUrl, '/v2/repository/index', { ready: 'yes' });
    expect(bad.status).toBe(400);
  });

  it('rejects bad load calls with 4xx', async () => {
    const load = (name: string, body: unknown = '') =>
      postJson(worker.baseUrl, `/v2/repository/models/${name}/load`, body);
    expect((await load('nothing')).status).toBe(404);
    expect((await load('..%2F..%2Fetc')).status).toBe(404);
    const precision = await load('alpha', { parameters: { precision: 'fp8' } });
    expect(precision.status).toBe(400);
    expect(precision.json.error.param).toBe('parameters.precision');
    expect((await load('alpha', { parameters: { config: '{}' } })).status).toBe(400);
    expect((await load('alpha', '{')).status).toBe(400);
    const broken = await load('truncated');
    expect(broken.status).toBe(400);
    expect(broken.json.error.code).toBe('model_load_failed');
    expect(
      (await postJson(worker.baseUrl, '/v2/repository/models/nothing/unload', '')).status,
    ).toBe(404);
    expect((await fetch(`${worker.baseUrl}/v2/repository/models/alpha/load`)).status).toBe(405);
  });

  it('reloads, adds a version and loads a fixed folder under traffic without a failed request', async () => {
    const load = (name: string) =>
      postJson(worker.baseUrl, `/v2/repository/models/${name}/load`, '');
    const onAlpha = traffic(worker, 'alpha');
    const onBeta = traffic(worker, 'beta/1');
    await new Promise((r) => setTimeout(r, 200));
    expect((await load('alpha')).status).toBe(200); // reload: new instance, then switch
    expect((await load('alpha')).status).toBe(200);
    cpSync(GOOD, path.join(root, 'alpha', '2'), { recursive: true });
    expect((await load('alpha')).status).toBe(200);
    cpSync(path.join(GOOD, 'model.onnx'), path.join(root, 'truncated', '1', 'model.onnx'));
    expect((await load('truncated')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    await Promise.all([onAlpha.stop(), onBeta.stop()]);
    expect(onAlpha.errors).toEqual([]);
    expect(onBeta.errors).toEqual([]);
    expect(onAlpha.statuses.length).toBeGreaterThan(8);

    const models = await get<ModelsJson>(worker, '/v1/models');
    expect(models.json.data.find((m) => m.id === 'alpha')?.root).toBe('alpha/2');
    expect(models.json.data.map((m) => m.id)).toContain('truncated/1');
    expect((await complete(worker, 'truncated')).status).toBe(200);
  });

  it('a failed reload keeps the serving instance', async () => {
    const onBeta = traffic(worker, 'beta', 2);
    const onnx = path.join(root, 'beta', '1', 'model.onnx');
    const good = readFileSync(onnx);
    writeFileSync(onnx, good.subarray(0, 4096));
    const res = await postJson(worker.baseUrl, '/v2/repository/models/beta/load', '');
    expect(res.status).toBe(400);
    expect((await complete(worker, 'beta')).status).toBe(200);
    await onBeta.stop();
    expect(onBeta.errors).toEqual([]);
    const health = await get<HealthJson>(worker, '/health');
    const beta = health.json.models.find((m) => m.id === 'beta/1');
    expect(beta).toMatchObject({ state: 'READY', ready: true });
    expect(beta?.error).toMatch(/reload failed/);
    writeFileSync(onnx, good);
  });

  it('unload drains in-flight generations while other models keep serving', async () => {
    const onBeta = traffic(worker, 'beta');
    // 8 choices × 480 tokens each: long enough to be in flight when the unload comes, even on a
    // fast machine (one 200-token choice could finish before the health poll saw it).
    const long = complete(worker, 'alpha/1', 480, { n: 8 });
    const longer = complete(worker, 'alpha/2', 480, { stream: true, n: 8 });
    let settled = 0;
    const count = () => void settled++;
    void long.then(count, count);
    void longer.then(count, count);
    // Both generations should be running before the unload (a fixed sleep raced under load); on
    // a fast machine one may finish first, so the wait also ends when one has settled, and at
    // least one must still be in flight for the unload to drain.
    let running = 0;
    while (running < 2 && settled === 0) {
      const health = (await (await fetch(`${worker.baseUrl}/health`)).json()) as {
        models: { id: string; slots_in_use: number }[];
      };
      running = health.models
        .filter((m) => m.id.startsWith('alpha/'))
        .reduce((n, m) => n + m.slots_in_use, 0);
      if (running < 2) await new Promise((r) => setTimeout(r, 5));
    }
    expect(settled, 'a generation was still in flight when the unload came').toBeLessThan(2);
    const unload = await postJson(worker.baseUrl, '/v2/repository/models/alpha/unload', '');
    expect(unload.status).toBe(200);
    expect((await long).status).toBe(200);
    expect((await long).json.usage.completion_tokens).toBe(8 * 480);
    expect((await longer).status).toBe(200);
    const after = await complete(worker, 'alpha');
    expect(after.status).toBe(404);
    expect((await fetch(`${worker.baseUrl}/v2/models/alpha/ready`)).status).toBe(404);
    const index = await postJson<Entry[]>(worker.baseUrl, '/v2/repository/index', '');
    expect(index.json.filter((e) => e.name === 'alpha').map((e) => e.state)).toEqual([
      'UNAVAILABLE',
      'UNAVAILABLE',
    ]);
    // Loaded again, it serves again.
    expect((await postJson(worker.baseUrl, '/v2/repository/models/alpha/load', '')).status).toBe(
      200,
    );
    expect((await complete(worker, 'alpha')).status).toBe(200);
    await onBeta.stop();
    expect(onBeta.errors).toEqual([]);
  });
});

describe('unload drain bound', () => {
  it('cuts generations that outlast WORKER_UNLOAD_DRAIN_MS short with an error', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'fw-repo-'));
    cpSync(GOOD, path.join(root, 'alpha', '1'), { recursive: true });
    const worker = await startWorker({ MODEL_REPOSITORY: root, WORKER_UNLOAD_DRAIN_MS: '100' });
    try {
      // 16 choices × 480 tokens: far longer than the 100 ms bound on this model.
      const long = complete(worker, 'alpha', 480, { n: 16 });
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      const unload = await postJson(worker.baseUrl, '/v2/repository/models/alpha/unload', '');
      expect(unload.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(5000);
      const res = await long;
      expect(res.status).toBe(500);
      expect(res.json.error.message).toMatch(/unloaded/);
    } finally {
      expect(await worker.stop()).toBe(0);
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('precision', () => {
  it('serves model_int8.onnx where present, fp32 with the reason where not, per load call too', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'fw-repo-'));
    cpSync(GOOD, path.join(root, 'alpha', '1'), { recursive: true });
    cpSync(GOOD, path.join(root, 'beta', '1'), { recursive: true });
    // Which file is loaded is what is tested here; a copy stands in for a quantized graph.
    cpSync(path.join(GOOD, 'model.onnx'), path.join(root, 'alpha', '1', 'model_int8.onnx'));
    const worker = await startWorker({ MODEL_REPOSITORY: root, WORKER_PRECISION: 'int8' });
    type Precision = { id: string; precision: string; precision_note: string | null };
    const precisions = async () =>
      Object.fromEntries(
        (await get<{ models: Precision[] }>(worker, '/health')).json.models.map((m) => [m.id, m]),
      );
    try {
      expect(await precisions()).toMatchObject({
        'alpha/1': { precision: 'int8', precision_note: null },
        'beta/1': { precision: 'fp32', precision_note: expect.stringMatching(/model_int8/) },
      });
      expect((await complete(worker, 'beta')).status).toBe(200);
      expect(worker.logs()).toMatch(/beta\/1 ready .*no model_int8\.onnx, serving fp32/);
      // Per model through the load call, under traffic.
      const onAlpha = traffic(worker, 'alpha', 2);
      const load = (body: unknown) =>
        postJson(worker.baseUrl, '/v2/repository/models/alpha/load', body);
      expect((await load({ parameters: { precision: 'fp32' } })).status).toBe(200);
      expect((await precisions())['alpha/1']).toMatchObject({ precision: 'fp32' });
      expect((await load({ parameters: { precision: 'int8' } })).status).toBe(200);
      expect((await precisions())['alpha/1']).toMatchObject({ precision: 'int8' });
      await onAlpha.stop();
      expect(onAlpha.errors).toEqual([]);
    } finally {
      expect(await worker.stop()).toBe(0);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
