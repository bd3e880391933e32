// Offline evals end to end on both databases with the real worker and the demo teacher: the job
// runs a queued eval with live progress, scores what is known (the kept text that is the model's
// own answer matches exactly), reproduces itself from its config, fails with a reason while the
// backend is down and succeeds on retry once it is up.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildNow, createDataset } from '~/features/datasets/server/datasets-service';
import { registerServedModels } from '~/features/models/server/model-registry-service';
import { BackendPool } from '~/features/suggestions/server/backend-pool';
import { sentenceCut } from '~/features/suggestions/server/gateway';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { startWorker, type WorkerProcess } from '~/test/worker-process';
import type { EvalMetrics } from '../run-metrics';
import { createEvalJob } from './eval-job';
import { getEvalRun } from './evals-queries';
import { createEvalRun, retryEvalRun } from './evals-service';
import { PROMPTS, seedEvalTraffic, type SeededTraffic } from './testing/eval-fixtures';

const MODEL = 'flywheel-teacher/1';
let worker: WorkerProcess;
let deadPort: number;
let datasetsDir: string;
const answers = new Map<string, string>();

async function post(url: string, body: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    choices: {
      text: string;
      logprobs: { token_logprobs: (number | null)[]; text_offset: number[] } | null;
    }[];
  };
}

beforeAll(async () => {
  datasetsDir = await mkdtemp(path.join(tmpdir(), 'flywheel-evals-'));
  worker = await startWorker();
  // A port nobody listens on (the backend "down"), later used by a second worker ("up").
  deadPort = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  // The candidate's own answers, asked straight from the worker as the feature asks (greedy, 12
  // tokens, stop at a newline, cut after the first sentence).
  for (const prompt of PROMPTS) {
    const out = await post(`${worker.baseUrl}/v1/completions`, {
      model: MODEL,
      prompt,
      max_tokens: 12,
      stop: ['\n'],
      temperature: 0,
    });
    const text = out.choices[0]!.text;
    answers.set(prompt, sentenceCut(text) ?? text);
  }
});
afterAll(async () => {
  await worker?.stop();
  await rm(datasetsDir, { recursive: true, force: true });
});

const withoutTimings = (m: EvalMetrics) => ({ ...m, latencyMs: null, ttftMs: null, tiers: null });

describeOnEachDatabase('offline evals with the real worker', ({ db }) => {
  let pool: BackendPool;
  let traffic: SeededTraffic;
  let actor: { type: 'user'; userId: string };
  beforeAll(async () => {
    pool = new BackendPool([worker.baseUrl], { failureThreshold: 1000, cooldownMs: 1000 });
    await registerServedModels(
      db(),
      (await pool.listModels()).flatMap((l) => l.ids),
    );
    traffic = await seedEvalTraffic(db(), answers);
    actor = { type: 'user', userId: (await makeUser(db(), 'editor')).id };
    // Runs queued by other tests of this database are not this suite's to run.
    await db().evalRun.updateMany({
      where: { status: 'queued' },
      data: { status: 'failed', error: 'left queued by an earlier test' },
    });
  });
  const request = (over: Record<string, unknown> = {}) => ({
    model: MODEL,
    from: traffic.from,
    to: traffic.to,
    sample: 50,
    seed: 's1',
    ...over,
  });

  it('scores the candidate through the job against what users kept, with live progress', async () => {
    const run = await createEvalRun(db(), actor, request());
    expect(run.status).toBe('queued');
    const job = createEvalJob(db(), { pool, progressEveryMs: 0 });
    const seen: { status: string; done: number; total: number }[] = [];
    let finished = false;
    const running = job.runNext().finally(() => (finished = true));
    while (!finished) {
      const view = await getEvalRun(db(), run.id);
      seen.push({ status: view.status, ...view.progress });
      await new Promise((r) => setTimeout(r, 15));
    }
    expect(await running).toBe(run.id);
    // Progress was visible while it ran.
    expect(seen.some((s) => s.status === 'running' && s.done > 0 && s.done < s.total)).toBe(true);

    const done = await getEvalRun(db(), run.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    expect(done.progress).toEqual({ done: PROMPTS.length, total: PROMPTS.length });
    const m = done.metrics!;
    // Eight generations had a kept text (the one never shown is no example).
    expect(m.examples).toBe(PROMPTS.length);
    // The four whose kept text is the model's own greedy answer match exactly; the others do not.
    expect(m.exactMatch).toMatchObject({ hits: 4, n: 8, rate: 0.5 });
    expect(m.exactMatch.ci95![0]).toBeLessThan(0.5);
    expect(m.exactMatch.ci95![1]).toBeGreaterThan(0.5);
    expect(m.exactFirstWord.hits).toBeGreaterThanOrEqual(4);
    for (const s of m.samples) {
      expect(traffic.kept.get(s.prompt)).toBe(s.kept);
      if (traffic.selfPrompts.includes(s.prompt)) {
        expect(s.candidate).toBe(s.kept);
        expect(s.chrf).toBe(100);
      } else expect(s.chrf).toBeLessThan(100);
    }
    expect(m.chrf.mean).toBeGreaterThan(50);
    expect(m.chrf.mean).toBeLessThan(100);
    expect(m.chrf.ci95![0]).toBeLessThanOrEqual(m.chrf.mean!);
    expect(m.editDistance.mean).toBeGreaterThan(0);
    expect(m.editDistance.mean).toBeLessThan(0.6);
    expect(m.latencyMs.n).toBe(8);
    expect(m.latencyMs.p50).toBeGreaterThan(0);
    expect(m.latencyMs.p95).toBeGreaterThanOrEqual(m.latencyMs.p50!);
    expect(Object.values(m.tiers).reduce((a, b) => a + b, 0)).toBe(8);
    expect(m.backends).toEqual({ [worker.baseUrl]: 8 });

    // Log-likelihood of the kept text from the worker's echoed prompt logprobs, checked against
    // the logprobs of the same tokens when the model generates them (a kept text that is its own
    // greedy answer is scored on the tokens it produced).
    expect(m.logLikelihood).toMatchObject({ available: true, examples: 8, reason: null });
    expect(m.logLikelihood.perToken.mean).toBeLessThan(0);
    const prompt = traffic.selfPrompts[0]!;
    const generated = await post(`${worker.baseUrl}/v1/completions`, {
      model: MODEL,
      prompt,
      max_tokens: 12,
      stop: ['\n'],
      temperature: 0,
      logprobs: 0,
    });
    const own = answers.get(prompt)!;
    const lp = generated.choices[0]!.logprobs!;
    const base = lp.text_offset[0]!;
    const ownTotal = lp.token_logprobs
      .filter((_, i) => lp.text_offset[i]! - base < own.length)
      .reduce<number>((a, b) => a + b!, 0);
    const scored = m.samples.find((s) => s.prompt === prompt);
    expect(scored?.logLikelihood).toBeCloseTo(ownTotal, 3);
    for (const s of m.samples) expect(s.logLikelihood).toBeLessThan(0);

    // The recorded config says how to rerun it.
    expect(done.config).toMatchObject({
      model: { name: 'flywheel-teacher', version: '1', backendModel: MODEL },
      featureId: 'inline-completion',
      sampleSize: 50,
      seed: 's1',
      source: { kind: 'generations', from: traffic.from, watermark: traffic.to },
      params: { maxTokens: 12, stop: ['\n'], temperature: 0, stopAtSentenceEnd: true },
      code: { evalVersion: 1 },
    });
  });

  it('is reproducible: the same seed gives the same sample and scores, another seed another order', async () => {
    const job = createEvalJob(db(), { pool });
    const a = await createEvalRun(db(), actor, request({ sample: 5, seed: 'repro' }));
    const b = await createEvalRun(db(), actor, request({ sample: 5, seed: 'repro' }));
    const c = await createEvalRun(db(), actor, request({ sample: 5, seed: 'other' }));
    // Two job instances side by side never take the same run.
    const claimed = await Promise.all([job.runNext(), createEvalJob(db(), { pool }).runNext()]);
    expect(new Set(claimed)).toEqual(new Set([a.id, b.id]));
    expect(await job.runNext()).toBe(c.id);
    const metricsOf = async (id: string) => (await getEvalRun(db(), id)).metrics!;
    const ma = await metricsOf(a.id);
    const mb = await metricsOf(b.id);
    const mc = await metricsOf(c.id);
    expect(ma.samples.map((s) => s.key)).toEqual(mb.samples.map((s) => s.key));
    expect(withoutTimings(ma)).toEqual(withoutTimings(mb));
    expect(mc.samples.map((s) => s.key)).not.toEqual(ma.samples.map((s) => s.key));
    expect(ma.examples).toBe(5);
  });

  it('fails with the reason while the backend is down, and a retry succeeds once it is up', async () => {
    const downPool = new BackendPool([`http://127.0.0.1:${deadPort}`], {
      failureThreshold: 1000,
      cooldownMs: 1000,
    });
    const run = await createEvalRun(db(), actor, request({ sample: 3 }));
    expect(await createEvalJob(db(), { pool: downPool }).runNext()).toBe(run.id);
    const failed = await getEvalRun(db(), run.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe(
      `The candidate's backend is down: http://127.0.0.1:${deadPort} did not answer GET /v1/models`,
    );
    await expect(retryEvalRun(db(), actor, failed.id)).resolves.toBeDefined();
    const retry = (await db().evalRun.findFirstOrThrow({ where: { retryOfId: run.id } })).id;
    expect((await getEvalRun(db(), retry)).config).toEqual(failed.config);

    const up = await startWorker({ WORKER_PORT: String(deadPort) });
    try {
      expect(await createEvalJob(db(), { pool: downPool }).runNext()).toBe(retry);
    } finally {
      await up.stop();
    }
    const ok = await getEvalRun(db(), retry);
    expect(ok.status).toBe('succeeded');
    expect(ok.metrics!.examples).toBe(3);
    // Only a failed run is retried.
    await expect(retryEvalRun(db(), actor, retry)).rejects.toThrow(/Only a failed run/);
    const audit = await db().auditLog.findMany({
      where: { entityType: 'eval_run', entityId: { in: [run.id, retry] } },
      orderBy: { createdAt: 'asc' },
    });
    expect(audit.map((a) => a.action)).toEqual(['eval.create', 'eval.retry']);
  });

  it('says which model the backends serve when they do not serve the candidate', async () => {
    await db().modelVersion.upsert({
      where: { name_version: { name: 'flywheel-unserved', version: '1' } },
      create: { name: 'flywheel-unserved', version: '1', backendModel: 'flywheel-unserved/1' },
      update: {},
    });
    const run = await createEvalRun(db(), actor, request({ model: 'flywheel-unserved/1' }));
    expect(await createEvalJob(db(), { pool }).runNext()).toBe(run.id);
    const failed = await getEvalRun(db(), run.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(
      /^No backend serves "flywheel-unserved\/1" \(served: .*flywheel-teacher\/1/,
    );
  });

  it('runs again a run left running by a process that died', async () => {
    const run = await createEvalRun(db(), actor, request({ sample: 2 }), { running: true });
    const job = createEvalJob(db(), { pool, staleAfterMs: 60_000 });
    // Still fresh: nobody takes it.
    expect(await job.runNext()).toBeNull();
    await db()
      .$executeRaw`UPDATE eval_run SET "updatedAt" = now() - interval '2 minutes' WHERE id = ${run.id}`;
    expect(await job.runNext()).toBe(run.id);
    expect((await getEvalRun(db(), run.id)).status).toBe('succeeded');
  });

  it("scores a dataset version's eval split (its prompts and kept completions)", async () => {
    const name = `evals-${randomUUID().slice(0, 8)}`;
    await createDataset(db(), actor, {
      name,
      definition: {
        featureId: 'inline-completion',
        from: traffic.from,
        to: traffic.to,
        seed: 'split',
        format: 'prompt-completion',
        evalFraction: 0.5,
        gates: { dedupe: false, scrubPii: false },
      },
    });
    const version = await buildNow(
      db(),
      actor,
      { dataset: name, watermark: traffic.to },
      { dir: datasetsDir },
    );
    const evalRows = (version.manifest as { splits: { eval: { rows: number } } }).splits.eval.rows;
    expect(evalRows).toBeGreaterThan(0);
    const run = await createEvalRun(db(), actor, {
      model: MODEL,
      dataset: `${name}@1`,
      sample: 50,
    });
    expect(run.datasetVersionId).toBe(version.id);
    expect(await createEvalJob(db(), { pool, datasets: { dir: datasetsDir } }).runNext()).toBe(
      run.id,
    );
    const done = await getEvalRun(db(), run.id);
    expect(done.status).toBe('succeeded');
    expect(done.source).toBe(`${name}@1 (eval split)`);
    expect(done.metrics!.examples).toBe(evalRows);
    for (const s of done.metrics!.samples) {
      expect(s.kept).toBe(traffic.kept.get(s.prompt));
      expect(s.candidate === s.kept).toBe(traffic.selfPrompts.includes(s.prompt));
    }
    // The same version by id is the same source.
    const byId = await createEvalRun(db(), actor, { model: MODEL, dataset: version.id, sample: 2 });
    expect((byId.config as { source: unknown }).source).toEqual(done.config.source);
    await db().evalRun.update({ where: { id: byId.id }, data: { status: 'failed' } });
  });
});
