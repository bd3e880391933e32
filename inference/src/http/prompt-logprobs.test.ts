/**
 * Prompt logprobs (`echo` + `logprobs`, `max_tokens: 0` scores only) against a reference
 * computed here: one full forward pass of the test model with onnxruntime-node, log-softmax
 * in float64, independent of the worker's engine.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postJson,
  startWorker,
  TESTDATA_MODELS,
  type WorkerProcess,
} from '../testing/worker-process';

const MODEL = 'tiny-random';
const DIR = path.join(TESTDATA_MODELS, MODEL, '1');
const TOL = 1e-4;
const PROMPTS = [
  'It is a truth universally acknowledged, that a single man',
  'Emma Woodhouse, handsome, clever, and rich, with a comfortable home',
  'The family of Dashwood had long been settled in Sussex.',
];

interface Logprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}
interface Choice {
  index: number;
  text: string;
  finish_reason: string;
  logprobs: Logprobs | null;
}
interface Completion {
  choices: Choice[];
  usage: {
    prompt_tokens: number;
    completion_tokens: number;
    prompt_tokens_details: { cached_tokens: number };
  };
  error?: { code: string | null; param: string | null; message: string };
}

let worker: WorkerProcess;
let session: ort.InferenceSession;
let tokenizer: PreTrainedTokenizer;

beforeAll(async () => {
  const json: unknown = JSON.parse(readFileSync(path.join(DIR, 'tokenizer.json'), 'utf8'));
  const config: unknown = JSON.parse(readFileSync(path.join(DIR, 'tokenizer_config.json'), 'utf8'));
  tokenizer = new PreTrainedTokenizer(json, config);
  [worker, session] = await Promise.all([
    startWorker({ MODEL_REPOSITORY: TESTDATA_MODELS, WORKER_PREFILL_CHUNK: '16' }),
    ort.InferenceSession.create(path.join(DIR, 'model.onnx')),
  ]);
});

afterAll(async () => {
  await session?.release();
  if (worker) expect(await worker.stop()).toBe(0);
});

const encode = (text: string): number[] => tokenizer.encode(text);

/** Reference log-softmax rows for every position of `ids` (row i predicts token i + 1). */
async function referenceRows(ids: number[]): Promise<Float64Array[]> {
  const T = ids.length;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, T]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
    position_ids: new ort.Tensor(
      'int64',
      BigInt64Array.from(ids, (_, i) => BigInt(i)),
      [1, T],
    ),
  };
  for (const name of session.inputNames.filter((n) => n.startsWith('past_key_values'))) {
    feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, 4, 0, 16]);
  }
  const logits = (await session.run(feeds)).logits!;
  const V = logits.dims[2]!;
  const data = logits.data as Float32Array;
  return ids.map((_, i) => {
    const row = data.subarray(i * V, (i + 1) * V);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x);
    let sum = 0;
    for (const x of row) sum += Math.exp(x - max);
    const lse = max + Math.log(sum);
    return Float64Array.from(row, (x) => x - lse);
  });
}

/** Checks logprobs of tokens `ids[from..]` (given as entries from `from` on) against the reference. */
async function expectMatchesReference(ids: number[], lp: Logprobs, k: number): Promise<void> {
  const rows = await referenceRows(ids);
  expect(lp.tokens).toEqual(ids.map((t) => tokenizer.decode([t])));
  expect(lp.token_logprobs[0]).toBeNull();
  expect(lp.top_logprobs[0]).toBeNull();
  for (let i = 1; i < ids.length; i++) {
    const row = rows[i - 1]!;
    expect(Math.abs(lp.token_logprobs[i]! - row[ids[i]!]!)).toBeLessThan(TOL);
    const top = Object.values(lp.top_logprobs[i]!).sort((a, b) => b - a);
    const best = [...row].sort((a, b) => b - a).slice(0, k);
    expect(top.length).toBeLessThanOrEqual(k); // distinct token texts may collapse in the dict
    expect(Math.abs(top[0]! - best[0]!)).toBeLessThan(TOL);
  }
}

const score = (body: Record<string, unknown>) =>
  postJson<Completion>(worker.baseUrl, '/v1/completions', {
    model: MODEL,
    echo: true,
    logprobs: 3,
    max_tokens: 0,
    ...body,
  });

describe('prompt logprobs', () => {
  it('scores a prompt with max_tokens 0: echo equals the prompt, logprobs match a full forward pass', async () => {
    const { status, json } = await score({ prompt: PROMPTS[0] });
    expect(status).toBe(200);
    const choice = json.choices[0]!;
    expect(choice.text).toBe(PROMPTS[0]);
    expect(choice.finish_reason).toBe('length');
    expect(json.usage).toMatchObject({
      prompt_tokens: encode(PROMPTS[0]!).length,
      completion_tokens: 0,
    });
    await expectMatchesReference(encode(PROMPTS[0]!), choice.logprobs!, 3);
    const lp = choice.logprobs!;
    lp.tokens.forEach((t, i) =>
      expect(choice.text.slice(lp.text_offset[i], lp.text_offset[i]! + t.length)).toBe(t),
    );
  });

  it('keeps offsets on characters that span several byte-level tokens', async () => {
    const text = 'A naïve café — “quoted” ☕ end';
    const { json } = await score({ prompt: text });
    const choice = json.choices[0]!;
    expect(choice.text).toBe(text);
    const lp = choice.logprobs!;
    await expectMatchesReference(encode(text), lp, 3);
    // Offsets never go back, stay inside the text, and land on every character boundary used.
    lp.text_offset.forEach((o, i) => {
      expect(o).toBeGreaterThanOrEqual(lp.text_offset[i - 1] ?? 0);
      expect(o).toBeLessThan(text.length);
    });
    // A whole-character token sits at its offset; a piece of a character at that character.
    let partial = 0;
    lp.tokens.forEach((t, i) => {
      const at = lp.text_offset[i]!;
      if (t.includes('\uFFFD')) partial++;
      else expect(text.slice(at, at + t.length)).toBe(t);
    });
    expect(partial).toBeGreaterThan(0); // the test text does split characters
    expect(text.slice(lp.text_offset.at(-1))).toBe(lp.tokens.at(-1));

    // Named by id (vLLM's return_tokens_as_token_ids), nothing collides: exactly the top k.
    const byId = await score({ prompt: text, return_tokens_as_token_ids: true });
    const ids = encode(text);
    const rows = await referenceRows(ids);
    const named = byId.json.choices[0]!.logprobs!;
    expect(named.tokens).toEqual(ids.map((t) => `token_id:${t}`));
    expect(named.token_logprobs).toEqual(lp.token_logprobs);
    named.top_logprobs.slice(1).forEach((top, i) => {
      const best = [...rows[i]!.keys()].sort((a, b) => rows[i]![b]! - rows[i]![a]!).slice(0, 3);
      expect(Object.keys(top!)).toEqual(best.map((t) => `token_id:${t}`));
    });
  });

  it('scores a batch of prompts, one choice per prompt in order', async () => {
    const { status, json } = await score({ prompt: PROMPTS, logprobs: 1 });
    expect(status).toBe(200);
    expect(json.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    for (const [i, p] of PROMPTS.entries()) {
      expect(json.choices[i]!.text).toBe(p);
      await expectMatchesReference(encode(p), json.choices[i]!.logprobs!, 1);
    }
    expect(json.usage.prompt_tokens).toBe(PROMPTS.reduce((s, p) => s + encode(p).length, 0));
    const tokens = await score({ prompt: PROMPTS.map(encode), logprobs: 1 });
    expect(tokens.json.choices.map((c) => c.logprobs!.token_logprobs)).toEqual(
      json.choices.map((c) => c.logprobs!.token_logprobs),
    );
  });

  it('gives the same scores with and without reuse of a scored prefix (KV and scores)', async () => {
    const context = `${PROMPTS[1]!} and happy disposition, seemed to unite`;
    // A generation caches KV but no scores: scoring the same text then prefills it all.
    const plain = await postJson<Completion>(worker.baseUrl, '/v1/completions', {
      model: MODEL,
      prompt: context,
      max_tokens: 2,
      temperature: 0,
    });
    expect(plain.status).toBe(200);
    const cold = await score({ prompt: context });
    expect(cold.json.usage.prompt_tokens_details.cached_tokens).toBe(0);
    await expectMatchesReference(encode(context), cold.json.choices[0]!.logprobs!, 3);
    // Scored once, the same prompt reuses KV and scores; so does a longer one (context + text).
    const again = await score({ prompt: context });
    expect(again.json.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(0);
    expect(again.json.choices[0]!.logprobs).toEqual(cold.json.choices[0]!.logprobs);
    for (const text of [' some of the best blessings', ' nothing at all']) {
      const longer = await score({ prompt: context + text });
      const ids = encode(context + text);
      expect(longer.json.usage.prompt_tokens_details.cached_tokens).toBeGreaterThanOrEqual(
        encode(context).length - 2,
      );
      await expectMatchesReference(ids, longer.json.choices[0]!.logprobs!, 3);
    }
    // Fewer top logprobs than stored reuse the stored ones; more cannot.
    const fewer = await score({ prompt: context, logprobs: 1 });
    expect(fewer.json.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(0);
    await expectMatchesReference(encode(context), fewer.json.choices[0]!.logprobs!, 1);
    const more = await score({ prompt: context, logprobs: 5 });
    expect(more.json.usage.prompt_tokens_details.cached_tokens).toBe(0);
    await expectMatchesReference(encode(context), more.json.choices[0]!.logprobs!, 5);
    // Scoring leaves the prompt's KV for later generations of a longer prompt (a keystroke).
    const next = await postJson<Completion>(worker.baseUrl, '/v1/completions', {
      model: MODEL,
      prompt: `${context} some`,
      max_tokens: 1,
      temperature: 0,
    });
    expect(next.json.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(0);
  });

  it('streams the echo of a one-token prompt (nothing to score before the first token)', async () => {
    const res = await fetch(`${worker.baseUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        prompt: [17],
        echo: true,
        logprobs: 1,
        max_tokens: 2,
        stream: true,
      }),
    });
    const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: {'));
    const first = (JSON.parse(events[0]!.slice(6)) as { choices: Choice[] }).choices[0]!;
    expect(first.logprobs!.token_logprobs).toEqual([null]);
    expect(first.text).toBe(tokenizer.decode([17]));
  });

  it('scores the prompt then the generated tokens (echo with max_tokens > 0), streamed or not', async () => {
    const ids = encode(PROMPTS[2]!);
    const body = { prompt: PROMPTS[2], max_tokens: 6, temperature: 0, ignore_eos: true };
    const { json } = await score(body);
    const choice = json.choices[0]!;
    const lp = choice.logprobs!;
    expect(lp.tokens).toHaveLength(ids.length + 6);
    const generated = lp.tokens.slice(ids.length).map((t) => encode(t)[0]!);
    // The whole text (prompt + greedy continuation) scored by one reference pass.
    await expectMatchesReference([...ids, ...generated], lp, 3);
    expect(choice.text.startsWith(PROMPTS[2]!)).toBe(true);
    expect(lp.text_offset[ids.length]).toBe(PROMPTS[2]!.length);

    const res = await fetch(`${worker.baseUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, echo: true, logprobs: 3, stream: true, ...body }),
    });
    const events = (await res.text())
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)) as { choices: Choice[] });
    const first = events[0]!.choices[0]!;
    expect(first.text).toBe(PROMPTS[2]);
    expect(first.logprobs!.token_logprobs).toEqual(lp.token_logprobs.slice(0, ids.length));
    const streamed = events.flatMap((e) => e.choices);
    expect(streamed.map((c) => c.text).join('')).toBe(choice.text);
    // Equal up to float rounding (speculative verification may batch the steps differently).
    const streamedLogprobs = streamed.flatMap((c) => c.logprobs?.token_logprobs ?? []);
    expect(streamedLogprobs).toHaveLength(lp.token_logprobs.length);
    streamedLogprobs.forEach((x, i) => {
      if (i === 0) expect(x).toBeNull();
      else expect(Math.abs(x! - lp.token_logprobs[i]!)).toBeLessThan(TOL);
    });
    expect(streamed.flatMap((c) => c.logprobs?.text_offset ?? [])).toEqual(lp.text_offset);
  });

  it('returns generated-token logprobs without echo', async () => {
    const ids = encode(PROMPTS[0]!);
    const { json } = await postJson<Completion>(worker.baseUrl, '/v1/completions', {
      model: MODEL,
      prompt: ids,
      max_tokens: 5,
      temperature: 0,
      ignore_eos: true,
      logprobs: 2,
    });
    const lp = json.choices[0]!.logprobs!;
    expect(lp.tokens).toHaveLength(5);
    expect(lp.text_offset[0]).toBe(0);
    const generated = lp.tokens.map((t) => encode(t)[0]!);
    const rows = await referenceRows([...ids, ...generated]);
    generated.forEach((t, j) => {
      expect(Math.abs(lp.token_logprobs[j]! - rows[ids.length - 1 + j]![t]!)).toBeLessThan(TOL);
    });
  });

  it('rejects bad scoring requests with 400s that say what to change', async () => {
    const bad = async (body: Record<string, unknown>, code: string | null, param: string) => {
      const { status, json } = await postJson<Completion>(worker.baseUrl, '/v1/completions', {
        model: MODEL,
        ...body,
      });
      expect(status).toBe(400);
      expect(json.error).toMatchObject({ code, param });
      return json.error!.message;
    };
    expect(await bad({ prompt: 'x', max_tokens: 0 }, null, 'max_tokens')).toContain('echo');
    expect(
      await bad(
        { prompt: new Array(513).fill(17), echo: true, logprobs: 1, max_tokens: 0 },
        'context_length_exceeded',
        'prompt',
      ),
    ).toMatch(/512 tokens, but the prompt has 513/);
    expect(
      await bad(
        { prompt: ['Emma', new Array(700).fill(3).join(' ')], echo: true, max_tokens: 0 },
        'context_length_exceeded',
        'prompt',
      ),
    ).toContain('prompt 1');
    await bad({ prompt: ['Emma', ''], echo: true, max_tokens: 0 }, 'empty_prompt', 'prompt');
    await bad({ prompt: 'x', echo: true, logprobs: 21, max_tokens: 0 }, null, 'logprobs');
    await bad({ prompt: new Array(33).fill('x'), echo: true, max_tokens: 0 }, null, 'prompt');
    await bad({ prompt: 'x', echo: true, max_tokens: -1 }, null, 'max_tokens');
    // A prompt that fills the context exactly can be scored, not continued.
    const full = new Array(512).fill(17);
    expect((await score({ prompt: full })).status).toBe(200);
    await bad({ prompt: full, max_tokens: 1 }, 'context_length_exceeded', 'prompt');
  });
});
