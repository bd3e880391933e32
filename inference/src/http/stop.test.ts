/**
 * `include_stop_str_in_output` (as vLLM): a stop sequence ends the generation but stays in the
 * text, and the usage chunk still closes the stream, so a caller that ends a suggestion at a
 * sentence end gets exact token counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postJson,
  startWorker,
  TESTDATA_MODELS,
  type CompletionJson,
  type WorkerProcess,
} from '../testing/worker-process';

const MODEL = 'tiny-random';
const PROMPT = 'Emma Woodhouse, handsome, clever, and rich,';
let worker: WorkerProcess;

beforeAll(async () => {
  worker = await startWorker({ MODEL_REPOSITORY: TESTDATA_MODELS });
});

afterAll(async () => {
  if (worker) expect(await worker.stop()).toBe(0);
});

const base = { model: MODEL, max_tokens: 24, temperature: 0, ignore_eos: true };

interface Chunk {
  choices: {
    text?: string;
    delta?: { content?: string };
    finish_reason: string | null;
  }[];
  usage?: CompletionJson['usage'];
}

/** The SSE events of a streamed request, and whether it ended with [DONE]. */
async function stream(route: string, body: Record<string, unknown>) {
  const res = await fetch(`${worker.baseUrl}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  });
  expect(res.status).toBe(200);
  const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: '));
  const done = events.at(-1) === 'data: [DONE]';
  const chunks = events
    .filter((e) => e !== 'data: [DONE]')
    .map((e) => JSON.parse(e.slice(6)) as Chunk);
  const text = chunks
    .flatMap((c) => c.choices.map((x) => x.text ?? x.delta?.content ?? ''))
    .join('');
  const finish = chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).find((f) => f);
  return { done, text, finish, usage: chunks.at(-1)?.usage, last: chunks.at(-1) };
}

/** The greedy text, its tokens' texts, and a stop string taken from its middle. */
async function reference(route: '/v1/completions' | '/v1/chat/completions') {
  const body =
    route === '/v1/completions'
      ? { ...base, prompt: PROMPT, logprobs: 0 }
      : { ...base, messages: [{ role: 'user', content: PROMPT }], logprobs: true };
  const { json } = await postJson<{ choices: Record<string, unknown>[] }>(
    worker.baseUrl,
    route,
    body,
  );
  const choice = json.choices[0]!;
  const text =
    route === '/v1/completions'
      ? (choice.text as string)
      : (choice.message as { content: string }).content;
  const tokens =
    route === '/v1/completions'
      ? (choice.logprobs as { tokens: string[] }).tokens
      : (choice.logprobs as { content: { token: string }[] }).content.map((c) => c.token);
  expect(tokens.join('')).toBe(text); // ASCII here, so token texts add up
  // A stop that ends inside a token, two-thirds of the way in.
  const at = Math.floor((text.length * 2) / 3);
  const stop = text.slice(at, at + 2);
  const first = text.indexOf(stop);
  let covered = 0;
  const needed = tokens.findIndex((t) => (covered += t.length) >= first + stop.length) + 1;
  return {
    body,
    stop,
    kept: text.slice(0, first + stop.length),
    cut: text.slice(0, first),
    needed,
  };
}

describe('stop sequences kept in the output (include_stop_str_in_output)', () => {
  it('completions: ends at the stop, keeps it, counts the tokens up to it, streamed or not', async () => {
    const ref = await reference('/v1/completions');
    const { logprobs: _, ...body } = ref.body;
    const kept = await postJson(worker.baseUrl, '/v1/completions', {
      ...body,
      stop: [ref.stop],
      include_stop_str_in_output: true,
    });
    expect(kept.status).toBe(200);
    expect(kept.json.choices[0]!.text).toBe(ref.kept);
    expect(kept.json.choices[0]!.finish_reason).toBe('stop');
    expect(kept.json.usage.completion_tokens).toBe(ref.needed);

    const streamed = await stream('/v1/completions', {
      ...body,
      stop: [ref.stop],
      include_stop_str_in_output: true,
    });
    expect(streamed).toMatchObject({ done: true, text: ref.kept, finish: 'stop' });
    expect(streamed.last!.choices).toEqual([]);
    expect(streamed.usage).toEqual(kept.json.usage);

    // Without the flag the stop is cut off, as before, and the usage chunk still comes.
    const cut = await stream('/v1/completions', { ...body, stop: [ref.stop] });
    expect(cut).toMatchObject({ done: true, text: ref.cut, finish: 'stop' });
    expect(cut.usage!.completion_tokens).toBe(ref.needed);
  });

  it('chat: the same, with the usage chunk after the finish chunk', async () => {
    const ref = await reference('/v1/chat/completions');
    const { logprobs: _, ...body } = ref.body;
    const args = { ...body, stop: ref.stop, include_stop_str_in_output: true };
    const plain = await postJson<{
      choices: { message: { content: string }; finish_reason: string }[];
      usage: CompletionJson['usage'];
    }>(worker.baseUrl, '/v1/chat/completions', args);
    expect(plain.json.choices[0]!.message.content).toBe(ref.kept);
    expect(plain.json.choices[0]!.finish_reason).toBe('stop');
    expect(plain.json.usage.completion_tokens).toBe(ref.needed);
    const streamed = await stream('/v1/chat/completions', args);
    expect(streamed).toMatchObject({ done: true, text: ref.kept, finish: 'stop' });
    expect(streamed.usage).toEqual(plain.json.usage);
  });

  it('rejects a non-boolean flag', async () => {
    const { status, json } = await postJson(worker.baseUrl, '/v1/completions', {
      ...base,
      prompt: PROMPT,
      include_stop_str_in_output: 'yes',
    });
    expect(status).toBe(400);
    expect(json.error.param).toBe('include_stop_str_in_output');
  });
});
