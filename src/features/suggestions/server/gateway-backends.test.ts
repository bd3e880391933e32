// The gateway against backends that misbehave (a stream that breaks, stop strings stripped, a
// field rejected), with the real worker beside them.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Gateway, sentenceCut, type GatewayResult } from './gateway';
import { StaticModelCatalog } from './model-catalog';
import {
  catalog,
  corpus,
  feature,
  pool,
  request,
  workerPerFile,
  waitFor,
} from './testing/gateway-fixtures';

const worker = workerPerFile();

describe('a tier that fails mid-stream', () => {
  it('resets what it streamed before the next tier streams', async () => {
    // Streams one chunk, then drops the connection (a worker killed mid-answer).
    const breaking = createServer((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [] }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = {
        id: 'c',
        object: 'text_completion',
        choices: [{ index: 0, text: ' BROKEN' }],
      };
      res.write(`data: ${JSON.stringify(chunk)}\n\n`, () => setTimeout(() => res.destroy(), 20));
    });
    await new Promise<void>((r) => breaking.listen(0, '127.0.0.1', r));
    const breakingUrl = `http://127.0.0.1:${(breaking.address() as AddressInfo).port}`;
    try {
      // The teacher is served only by the breaking backend, the student by the real worker.
      const split = new StaticModelCatalog([
        {
          id: null,
          name: 'flywheel-teacher',
          version: '1',
          backendModel: 'flywheel-teacher/1',
          label: 'flywheel-teacher/1',
        },
        {
          id: null,
          name: 'flywheel-student',
          version: '1',
          backendModel: 'flywheel-student/1',
          label: 'flywheel-student/1',
        },
      ]);
      const p = pool([breakingUrl, worker().baseUrl]);
      p.backends[0]!.models = new Set(['flywheel-teacher/1']);
      p.backends[1]!.models = new Set(['flywheel-student/1']);
      const events: string[] = [];
      const r = await new Gateway(p, split).suggest(
        request(feature({ stopAtSentenceEnd: false }), {
          onDelta: (t) => events.push(t),
          onReset: () => events.push('<reset>'),
        }),
      );
      expect(r.tier, JSON.stringify(r.attempts)).toBe('fallback_model');
      expect(events[0]).toBe(' BROKEN');
      expect(events[1]).toBe('<reset>');
      // After the reset, the deltas are exactly the answer.
      expect(events.slice(2).join('')).toBe(r.text);
    } finally {
      breaking.closeAllConnections();
      await new Promise((r) => breaking.close(r));
    }
  });
});

describe('token counts of a completion that ends at a sentence end', () => {
  // Prompts ending in a space (as typed): the demo models often write past a sentence end there.
  const candidates = [
    'Hello! How ',
    'It is done. It is done. It is ',
    'Yes. No. Maybe ',
    'OK. Thanks ',
  ];
  const f = feature({});
  const direct = async (model: string, prompt: string, extra: Record<string, unknown> = {}) => {
    const res = await fetch(`${worker().baseUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        prompt,
        max_tokens: f.maxTokens,
        temperature: f.temperature,
        seed: 42,
        stop: f.stop,
        ...extra,
      }),
    });
    return (await res.json()) as {
      choices: { text: string }[];
      usage: { prompt_tokens: number; completion_tokens: number };
    };
  };
  /** A prompt and model whose greedy answer goes on past its first sentence end. */
  const pastSentenceEnd = async () => {
    for (const model of ['flywheel-teacher', 'flywheel-student'])
      for (const prompt of candidates) {
        const { choices } = await direct(`${model}/1`, prompt);
        const cut = sentenceCut(choices[0]!.text);
        if (cut !== null && cut !== choices[0]!.text) return { model, prompt, cut };
      }
    throw new Error('no candidate prompt writes past a sentence end; add one');
  };
  const onlyModel = (model: string) =>
    new StaticModelCatalog([
      {
        id: null,
        name: 'flywheel-teacher',
        version: '1',
        backendModel: `${model}/1`,
        label: `${model}/1`,
      },
    ]);
  const countsOf = async (r: GatewayResult) =>
    r.laterUsage
      ? await r.laterUsage
      : { promptTokens: r.promptTokens, completionTokens: r.completionTokens };

  it('cut by the gateway, the rest of the stream still brings the usage', async () => {
    const { model, prompt, cut } = await pastSentenceEnd();
    const p = pool([worker().baseUrl]);
    p.backends[0]!.keepsStopStrings = false; // as a backend that strips stop strings
    const r = await new Gateway(p, onlyModel(model)).suggest(
      request(f, { prompt, textBefore: prompt }),
    );
    expect(r).toMatchObject({ tier: 'primary', text: cut });
    expect(r.laterUsage).not.toBeNull(); // answered at the cut, before the usage chunk
    // The counts of the whole generation, as the worker reports them for the same request.
    const { usage } = await direct(`${model}/1`, prompt);
    expect(await countsOf(r)).toEqual({
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
    });
  });

  it('where the worker keeps stop strings, the sentence end is its stop and counts come with it', async () => {
    const { model, prompt, cut } = await pastSentenceEnd();
    const p = pool([worker().baseUrl]);
    const backend = p.backends[0]!;
    p.probeStopStrings(backend, `${model}/1`);
    expect(await waitFor(() => Promise.resolve(backend.keepsStopStrings !== null), 5000)).toBe(
      true,
    );
    expect(backend.keepsStopStrings).toBe(true);
    const r = await new Gateway(p, onlyModel(model)).suggest(
      request(f, { prompt, textBefore: prompt }),
    );
    // The same suggestion as when the gateway cuts it …
    expect(r).toMatchObject({ tier: 'primary', text: cut });
    // … and the worker stopped there: its usage counts only the tokens up to the sentence end.
    const stopped = await direct(`${model}/1`, prompt, {
      stop: [...f.stop, '. ', '! ', '? '],
      include_stop_str_in_output: true,
    });
    expect(stopped.choices[0]!.text.startsWith(cut)).toBe(true);
    const { usage } = await direct(`${model}/1`, prompt);
    expect(stopped.usage.completion_tokens).toBeLessThan(usage.completion_tokens);
    expect(await countsOf(r)).toEqual({
      promptTokens: stopped.usage.prompt_tokens,
      completionTokens: stopped.usage.completion_tokens,
    });
  });

  it('a backend that strips stop strings is probed as such', async () => {
    // Speaks the OpenAI completions format and, as OpenAI and llama.cpp do, drops the stop.
    const stripping = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw) as { stop?: string[] };
        const text = body.stop?.includes(' sunny') ? '' : ' sunny';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'cmpl-1',
            object: 'text_completion',
            created: 0,
            model: 'm',
            choices: [{ index: 0, text, logprobs: null, finish_reason: 'stop' }],
            usage: { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 },
          }),
        );
      });
    });
    await new Promise<void>((r) => stripping.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(stripping.address() as AddressInfo).port}`;
      const p = pool([url]);
      const backend = p.backends[0]!;
      expect(backend.keepsStopStrings).toBeNull(); // unknown until probed
      p.probeStopStrings(backend, 'm');
      expect(await waitFor(() => Promise.resolve(backend.keepsStopStrings !== null), 5000)).toBe(
        true,
      );
      expect(backend.keepsStopStrings).toBe(false);
    } finally {
      await new Promise((r) => stripping.close(r));
    }
  });
});

describe('a backend that rejects truncate_prompt_tokens', () => {
  it('gets later requests without it, after one request moved on', async () => {
    // Answers as OpenAI does to an argument it does not know; otherwise streams " sunny".
    const bodies: Record<string, unknown>[] = [];
    const strict = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw) as Record<string, unknown>;
        bodies.push(body);
        if ('truncate_prompt_tokens' in body) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              error: {
                message: 'Unrecognized request argument supplied: truncate_prompt_tokens',
                type: 'invalid_request_error',
                param: null,
                code: null,
              },
            }),
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (text: string, finish: string | null) =>
          `data: ${JSON.stringify({ id: 'c', object: 'text_completion', created: 0, model: 'm', choices: [{ index: 0, text, logprobs: null, finish_reason: finish }] })}\n\n`;
        res.end(`${chunk(' sunny', null)}${chunk('', 'length')}data: [DONE]\n\n`);
      });
    });
    await new Promise<void>((r) => strict.listen(0, '127.0.0.1', r));
    try {
      const p = pool([`http://127.0.0.1:${(strict.address() as AddressInfo).port}`]);
      const gateway = new Gateway(p, catalog);
      const f = feature({ stopAtSentenceEnd: false });
      const first = await gateway.suggest(request(f));
      expect(first.tier).not.toBe('primary');
      expect(p.backends[0]!.takesPromptTruncation).toBe(false);
      const second = await gateway.suggest(request(f));
      expect(second).toMatchObject({ tier: 'primary', text: ' sunny' });
      expect(bodies[0]).toHaveProperty('truncate_prompt_tokens', -1);
      expect(bodies.at(-1)).not.toHaveProperty('truncate_prompt_tokens');
      // A rejection is not the backend's fault: its circuit stays closed.
      expect(p.backends[0]!.breaker.snapshot().state).toBe('closed');
    } finally {
      strict.closeAllConnections();
      await new Promise((r) => strict.close(r));
    }
  });
});

describe('a version that is both the arm and the chain’s student', () => {
  it('is asked once: an empty answer goes on to the n-gram tier, not to the same model again', async () => {
    let posts = 0;
    // Answers every completion with nothing (the model's first token was its stop).
    const silent = createServer((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [] }));
        return;
      }
      posts++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = {
        id: 'c',
        object: 'text_completion',
        choices: [{ index: 0, text: '', finish_reason: 'stop' }],
      };
      res.end(`data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const p = pool([url]);
      p.backends[0]!.models = new Set(['flywheel-teacher/1', 'flywheel-student/1']);
      const student = await catalog.resolve('flywheel-student');
      const r = await new Gateway(p, catalog).suggest(
        request(feature({ ngramCorpus: corpus }), { primaryOverride: student }),
      );
      expect(posts).toBe(1);
      expect(r.attempts.map((a) => [a.step, a.outcome])).toEqual([
        ['model:flywheel-teacher', 'empty'],
        ['model:flywheel-student', 'skipped'],
        ['ngram', 'ok'],
      ]);
      expect(r.tier).toBe('ngram');
      expect(r.error).toBeNull();
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });
});
