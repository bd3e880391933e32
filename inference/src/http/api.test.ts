/** The OpenAI-compatible API against the real worker process and the tiny test model. */
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadTransformersModel,
  transformersGreedy,
  type TransformersModel,
} from '../../../bench/lib/transformers-model';
import {
  postJson,
  startWorker,
  TESTDATA_MODELS,
  type WorkerProcess,
} from '../testing/worker-process';

const MODEL = 'tiny-random';
let worker: WorkerProcess;
let ref: TransformersModel;

beforeAll(async () => {
  [worker, ref] = await Promise.all([
    startWorker({
      MODEL_REPOSITORY: TESTDATA_MODELS,
      WORKER_MAX_BATCH: '4',
      WORKER_MAX_QUEUE: '8',
    }),
    loadTransformersModel(path.join(TESTDATA_MODELS, MODEL, '1')),
  ]);
});

afterAll(async () => {
  ref?.cleanup();
  if (worker) expect(await worker.stop()).toBe(0); // SIGTERM drains and exits cleanly
});

/** Greedy completion token ids from the worker (token-array prompt). */
async function workerGreedy(
  prompt: number[],
  maxTokens: number,
  extra: Record<string, unknown> = {},
) {
  const { status, json } = await postJson(worker.baseUrl, '/v1/completions', {
    model: MODEL,
    prompt,
    max_tokens: maxTokens,
    temperature: 0,
    logprobs: 0,
    ...extra,
  });
  expect(status).toBe(200);
  return json;
}

const ids = (text: string): number[] => ref.tokenizer.encode(text);
const PROMPTS = [
  'It is a truth universally acknowledged, that a single man',
  'Emma Woodhouse, handsome, clever, and rich,',
  'The family of Dashwood had long been settled in Sussex.',
];

describe('greedy token identity', () => {
  it('matches transformers.js generate, with and without speculation', async () => {
    for (const text of PROMPTS) {
      const expected = await transformersGreedy(ref, ids(text), 24);
      for (const speculative of [false, true]) {
        const json = await workerGreedy(ids(text), 24, { speculative });
        const tokens = json.choices[0]!.logprobs!.tokens;
        expect(tokens).toEqual(expected.map((t) => ref.tokenizer.decode([t])));
      }
    }
  });

  it('is unchanged by prefix reuse (a keystroke extends a cached prompt)', async () => {
    const base = ids(PROMPTS[0]!);
    await workerGreedy(base, 4);
    const extended = ids(`${PROMPTS[0]!} in possession`);
    const json = await workerGreedy(extended, 16);
    expect(json.usage.prompt_tokens_details.cached_tokens).toBeGreaterThanOrEqual(base.length - 1);
    const expected = await transformersGreedy(ref, extended, 16);
    expect(json.choices[0]!.logprobs!.tokens).toEqual(
      expected.map((t) => ref.tokenizer.decode([t])),
    );
  });

  it('is unchanged by a caller-supplied draft (prediction) and by batching', async () => {
    const prompt = ids(PROMPTS[1]!);
    const expected = await transformersGreedy(ref, prompt, 20);
    const text = ref.tokenizer.decode(expected);
    const predicted = await workerGreedy(prompt, 20, {
      prediction: { type: 'content', content: text },
    });
    expect(predicted.choices[0]!.text).toBe(text);
    const wrongDraft = await workerGreedy(prompt, 20, {
      prediction: { type: 'content', content: 'Nothing alike at all.' },
    });
    expect(wrongDraft.choices[0]!.text).toBe(text);
    const many = await Promise.all(PROMPTS.concat(PROMPTS).map((p) => workerGreedy(ids(p), 12)));
    for (const [i, p] of PROMPTS.concat(PROMPTS).entries()) {
      const exp = await transformersGreedy(ref, ids(p), 12);
      expect(many[i]!.choices[0]!.logprobs!.tokens).toEqual(
        exp.map((t) => ref.tokenizer.decode([t])),
      );
    }
  });
});

describe('OpenAI-compatible API', () => {
  it('lists models and reports health', async () => {
    const models = (await (await fetch(`${worker.baseUrl}/v1/models`)).json()) as {
      data: { id: string }[];
    };
    expect(models.data.map((m) => m.id)).toEqual(
      expect.arrayContaining(['tiny-random/1', 'tiny-random']),
    );
    const health = (await (await fetch(`${worker.baseUrl}/health`)).json()) as {
      models: { execution_provider: string; queue_depth: number; slots_in_use: number }[];
    };
    expect(health.models[0]).toMatchObject({ execution_provider: 'cpu', queue_depth: 0 });
    expect((await fetch(`${worker.baseUrl}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${worker.baseUrl}/v2/health/ready`)).status).toBe(200);
  });

  it('streams a completion through the official openai client', async () => {
    const client = new OpenAI({ baseURL: `${worker.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.completions.create({
      model: MODEL,
      prompt: PROMPTS[2]!,
      max_tokens: 10,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    const plain = await client.completions.create({
      model: MODEL,
      prompt: PROMPTS[2]!,
      max_tokens: 10,
      temperature: 0,
    });
    expect(text).toBe(plain.choices[0]!.text);
    expect(finish).toBe('length');
    expect(usage).toMatchObject({ prompt_tokens: ids(PROMPTS[2]!).length, completion_tokens: 10 });
  });

  it('answers chat completions with the chat template, streamed or not', async () => {
    const client = new OpenAI({ baseURL: `${worker.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'Who is Mr Darcy?' }];
    const res = await client.chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 6,
      temperature: 0,
      logprobs: true,
      top_logprobs: 2,
    });
    expect(res.choices[0]!.message.role).toBe('assistant');
    expect(res.choices[0]!.logprobs!.content).toHaveLength(res.usage!.completion_tokens);
    expect(res.choices[0]!.logprobs!.content![0]!.top_logprobs).toHaveLength(2);
    expect(res.usage!.prompt_tokens).toBe(ids('user: Who is Mr Darcy?\nassistant:').length);
    let streamed = '';
    for await (const c of await client.chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 6,
      temperature: 0,
      stream: true,
    })) {
      streamed += c.choices[0]?.delta.content ?? '';
    }
    expect(streamed).toBe(res.choices[0]!.message.content);
  });

  it('gives the same sampled text for the same seed, and n choices', async () => {
    const body = {
      model: MODEL,
      prompt: PROMPTS[0]!,
      max_tokens: 12,
      temperature: 0.9,
      top_p: 0.95,
      seed: 1234,
      n: 2,
    };
    const a = await postJson(worker.baseUrl, '/v1/completions', body);
    const b = await postJson(worker.baseUrl, '/v1/completions', body);
    expect(a.status).toBe(200);
    expect(a.json.choices.map((c) => c.text)).toEqual(b.json.choices.map((c) => c.text));
    expect(a.json.choices).toHaveLength(2);
  });

  it('cuts at stop sequences and echoes the prompt', async () => {
    const full = await postJson(worker.baseUrl, '/v1/completions', {
      model: MODEL,
      prompt: PROMPTS[1]!,
      max_tokens: 12,
      temperature: 0,
    });
    const text = full.json.choices[0]!.text;
    const stop = text.slice(3, 6);
    const cut = await postJson(worker.baseUrl, '/v1/completions', {
      model: MODEL,
      prompt: PROMPTS[1]!,
      max_tokens: 12,
      temperature: 0,
      stop: [stop],
      echo: true,
    });
    expect(cut.json.choices[0]!.text).toBe(PROMPTS[1]! + text.slice(0, text.indexOf(stop)));
    expect(cut.json.choices[0]!.finish_reason).toBe('stop');
  });
});
