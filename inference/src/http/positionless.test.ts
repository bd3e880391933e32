/**
 * An export without a position_ids input (tiny random Gemma): the worker's greedy output equals
 * PyTorch's (transformers' generate, recorded by inference/testdata/scripts/make_tiny_gemma.py)
 * alone, batched with prompts of other lengths, with requests joining mid-way, and with drafts
 * that get rejected. The same traffic on the padded layout changes the text, which shows the
 * test can see a position bug.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanModels } from '../models/repository';
import { ModelTokenizer } from '../models/tokenizer';
import { postJson, REPO_ROOT, startWorker, type WorkerProcess } from '../testing/worker-process';

interface Case {
  prompt: string;
  prompt_ids: number[];
  greedy_ids: number[];
}
const TESTDATA = path.join(REPO_ROOT, 'inference/testdata');
const reference = JSON.parse(
  readFileSync(path.join(TESTDATA, 'tiny-gemma.reference.json'), 'utf8'),
) as { max_new_tokens: number; cases: Case[] };
const CASES = reference.cases;
const N = reference.max_new_tokens;
const REPOSITORY = path.join(TESTDATA, 'positionless');
const tokenizer = ModelTokenizer.load(scanModels(REPOSITORY).versions[0]!);
/** Random weights emit random tokens, so equal text means equal token ids here. */
const expected = CASES.map((c) => tokenizer.decode(c.greedy_ids));

/** A draft that starts right, then has every third token wrong: rejections every few steps. */
const halfWrong = (c: Case) =>
  tokenizer.decode(c.greedy_ids.map((t, i) => (i >= 4 && i % 3 === 0 ? (t + 1) % 4095 : t)));

async function complete(worker: WorkerProcess, i: number, extra: Record<string, unknown> = {}) {
  const res = await postJson(worker.baseUrl, '/v1/completions', {
    model: 'tiny-gemma',
    prompt: CASES[i]!.prompt_ids,
    max_tokens: N,
    temperature: 0,
    ignore_eos: true,
    ...extra,
  });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  expect(res.json.usage.completion_tokens).toBe(N);
  return res.json.choices[0]!.text;
}

/** Every case three times at once, staggered, half of them with a partly wrong draft. */
async function crowd(worker: WorkerProcess): Promise<string[]> {
  const runs: Promise<string>[] = [];
  for (let round = 0; round < 3; round++) {
    CASES.forEach((c, i) => {
      const extra = i % 2 === 1 ? { prediction: { type: 'content', content: halfWrong(c) } } : {};
      runs.push(
        new Promise((r) => setTimeout(r, (round * CASES.length + i) * 4)).then(() =>
          complete(worker, i, extra),
        ),
      );
    });
  }
  return Promise.all(runs);
}

async function counter(worker: WorkerProcess, name: string): Promise<number> {
  const text = await (await fetch(`${worker.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
  return Number(line?.split(' ').pop() ?? 0);
}

describe('export without position_ids (tiny Gemma) against PyTorch', () => {
  let worker: WorkerProcess;
  beforeAll(async () => {
    worker = await startWorker({
      MODEL_REPOSITORY: REPOSITORY,
      WORKER_MAX_BATCH: '8',
      WORKER_SPECULATIVE_TOKENS: '4',
    });
  });
  afterAll(async () => {
    if (worker) expect(await worker.stop()).toBe(0);
  });

  it('is served on the grouped layout', async () => {
    const health = (await (await fetch(`${worker.baseUrl}/health`)).json()) as {
      models: { id: string; kv_layout: string }[];
    };
    expect(health.models).toEqual([
      expect.objectContaining({ id: 'tiny-gemma/1', kv_layout: 'grouped' }),
    ]);
  });

  it('one request at a time: plain, n-gram drafts, a partly wrong prediction', async () => {
    for (let i = 0; i < CASES.length; i++) {
      expect(await complete(worker, i, { speculative: false })).toBe(expected[i]);
      expect(await complete(worker, i)).toBe(expected[i]);
      const prediction = { type: 'content', content: halfWrong(CASES[i]!) };
      expect(await complete(worker, i, { prediction })).toBe(expected[i]);
    }
  });

  it('batched: prompts of different lengths, late joiners, rejected drafts', async () => {
    const drafted0 = await counter(worker, 'worker_speculative_draft_tokens_total');
    const accepted0 = await counter(worker, 'worker_speculative_accepted_tokens_total');
    const texts = await crowd(worker);
    texts.forEach((t, k) =>
      expect(t, CASES[k % CASES.length]!.prompt).toBe(expected[k % CASES.length]),
    );
    const drafted = (await counter(worker, 'worker_speculative_draft_tokens_total')) - drafted0;
    const accepted =
      (await counter(worker, 'worker_speculative_accepted_tokens_total')) - accepted0;
    expect(accepted).toBeGreaterThan(0);
    expect(drafted).toBeGreaterThan(accepted); // some draft tokens were rejected
  });
});

describe('the same traffic on the padded layout (the fix switched off)', () => {
  it('changes the text, so the test above can see position bugs', async () => {
    const worker = await startWorker({
      MODEL_REPOSITORY: REPOSITORY,
      WORKER_MAX_BATCH: '8',
      WORKER_SPECULATIVE_TOKENS: '4',
      WORKER_KV_LAYOUT: 'padded',
    });
    try {
      const texts = await crowd(worker);
      const wrong = texts.filter((t, k) => t !== expected[k % CASES.length]).length;
      expect(wrong).toBeGreaterThan(0);
    } finally {
      expect(await worker.stop()).toBe(0);
    }
  });
});
