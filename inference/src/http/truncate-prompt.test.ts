/**
 * `truncate_prompt_tokens` (as vLLM) against the real worker: a prompt longer than the context
 * keeps its last tokens and answers exactly as that tail would alone; bad values are 400s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postJson,
  startWorker,
  TESTDATA_MODELS,
  type WorkerProcess,
} from '../testing/worker-process';

let worker: WorkerProcess;
const MODEL = 'tiny-random';
// tiny-random's context (n_positions).
const CONTEXT = 512;
// A prompt of token ids well over the context, varied so that its tail is not its head.
const LONG = Array.from({ length: 900 }, (_, i) => (i * 37 + 11) % 4000);

beforeAll(async () => {
  worker = await startWorker({ MODEL_REPOSITORY: TESTDATA_MODELS });
});
afterAll(async () => {
  if (!worker) return;
  const code = await worker.stop();
  if (code !== 0) console.error(worker.logs());
  expect(code).toBe(0);
});

const complete = (body: Record<string, unknown>) =>
  postJson(worker.baseUrl, '/v1/completions', {
    model: MODEL,
    temperature: 0,
    seed: 1,
    ignore_eos: true,
    ...body,
  });

describe('truncate_prompt_tokens', () => {
  it('without it, a prompt over the context is refused', async () => {
    const res = await complete({ prompt: LONG, max_tokens: 8 });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('context_length_exceeded');
  });

  it('-1 keeps the last tokens that fit with room for max_tokens, and answers as they would', async () => {
    const maxTokens = 8;
    const kept = LONG.slice(-(CONTEXT - maxTokens));
    const truncated = await complete({
      prompt: LONG,
      max_tokens: maxTokens,
      truncate_prompt_tokens: -1,
    });
    const tail = await complete({ prompt: kept, max_tokens: maxTokens });
    expect(truncated.status).toBe(200);
    expect(tail.status).toBe(200);
    expect(truncated.json.usage.prompt_tokens).toBe(CONTEXT - maxTokens);
    expect(truncated.json.usage.completion_tokens).toBe(maxTokens);
    expect(truncated.json.choices[0]?.text).toBe(tail.json.choices[0]?.text);
    // The head alone answers differently, so the test would see a prompt kept from the wrong end.
    const head = await complete({ prompt: LONG.slice(0, kept.length), max_tokens: maxTokens });
    expect(head.json.choices[0]?.text).not.toBe(tail.json.choices[0]?.text);
  });

  it('k keeps the last k tokens (text prompts too; echo shows what the model saw)', async () => {
    const k = 40;
    const truncated = await complete({
      prompt: LONG,
      max_tokens: 4,
      truncate_prompt_tokens: k,
      echo: true,
    });
    const tail = await complete({ prompt: LONG.slice(-k), max_tokens: 4, echo: true });
    expect(truncated.status).toBe(200);
    expect(truncated.json.usage.prompt_tokens).toBe(k);
    expect(truncated.json.choices[0]?.text).toBe(tail.json.choices[0]?.text);

    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(200); // ≫ 512 tokens
    const res = await complete({ prompt: text, max_tokens: 6, truncate_prompt_tokens: -1 });
    expect(res.status).toBe(200);
    expect(res.json.usage.prompt_tokens).toBe(CONTEXT - 6);
    // A prompt already short enough is left as it is.
    const short = await complete({ prompt: 'Hello', max_tokens: 2, truncate_prompt_tokens: -1 });
    const plain = await complete({ prompt: 'Hello', max_tokens: 2 });
    expect(short.json.usage.prompt_tokens).toBe(plain.json.usage.prompt_tokens);
    expect(short.json.choices[0]?.text).toBe(plain.json.choices[0]?.text);
  });

  it('works on chat too', async () => {
    const res = await postJson(worker.baseUrl, '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'word '.repeat(1500) }],
      max_tokens: 5,
      temperature: 0,
      truncate_prompt_tokens: -1,
    });
    expect(res.status).toBe(200);
    expect(res.json.usage.prompt_tokens).toBe(CONTEXT - 5);
  });

  it('refuses k over the room the context leaves, and values that are not -1 or ≥ 1', async () => {
    const over = await complete({ prompt: LONG, max_tokens: 8, truncate_prompt_tokens: 600 });
    expect(over.status).toBe(400);
    expect(over.json.error).toMatchObject({
      code: 'context_length_exceeded',
      param: 'truncate_prompt_tokens',
    });
    expect(over.json.error.message).toContain('at most 504');
    // Fits the context but not with max_tokens' room.
    const noRoom = await complete({ prompt: LONG, max_tokens: 8, truncate_prompt_tokens: 510 });
    expect(noRoom.status).toBe(400);
    const full = await complete({ prompt: LONG, max_tokens: CONTEXT, truncate_prompt_tokens: -1 });
    expect(full.status).toBe(400);
    expect(full.json.error.param).toBe('max_tokens');
    for (const bad of [0, -2, 1.5, '10', true]) {
      const res = await complete({ prompt: 'Hello', truncate_prompt_tokens: bad });
      expect(res.status, String(bad)).toBe(400);
      expect(res.json.error.param).toBe('truncate_prompt_tokens');
    }
  });
});
