// The suggestion path end to end on both databases: tRPC, the rewrite stream and /api/v1, with
// the real worker as the backend (started once for the file).
import { Hono } from 'hono';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_MODELS, startWorker, type WorkerProcess } from '~/test/worker-process';
import { createApiKey } from '~/features/settings/server/api-key-service';
import { toPublicError } from '~/server/errors';
import { errorResponse } from '~/server/http/error-response';
import { createPublicApi } from '~/composition/public-api';
import { createCaller } from '~/composition/root';
import { contextFor } from '~/server/trpc';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { BackendPool } from './backend-pool';
import { seedFor } from './generation-store';
import { suggestionsApi } from './suggestions-api';
import { completeSuggestion, rewriteSuggestion } from './suggestions-service';
import { FEATURES, renderPrompt } from './feature-registry';
import { createSuggestionRuntime, type SuggestionRuntime } from './suggestions-runtime';

let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorker({ MODEL_REPOSITORY: DEMO_MODELS });
});
afterAll(async () => {
  await worker?.stop();
});

const sse = async (res: Response) =>
  (await res.text())
    .split('\n\n')
    .filter((f) => f.startsWith('data: '))
    .map((f) => JSON.parse(f.slice(6)) as Record<string, unknown>);

describeOnEachDatabase('suggestions', ({ db }) => {
  let rt: SuggestionRuntime;
  beforeAll(async () => {
    rt = createSuggestionRuntime(
      db(),
      new BackendPool([worker.baseUrl], { failureThreshold: 5, cooldownMs: 5000 }),
      { writer: { sinks: () => ['posthog', 'otel'] } },
    );
    // As at server start: the worker's models become ModelVersion rows, features are mirrored.
    expect(await rt.refreshModels()).toEqual(['flywheel-student/1', 'flywheel-teacher/1']);
    // A first request to a freshly started model can outlast the feature's latency budget on a
    // busy machine; the tests are about the path, so warm both models first.
    for (const model of ['flywheel-teacher/1', 'flywheel-student/1'])
      await fetch(`${worker.baseUrl}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, prompt: 'Thank you for', max_tokens: 4 }),
      });
  });

  it('mirrors the features with their default model version', async () => {
    const teacher = await db().modelVersion.findUniqueOrThrow({
      where: { name_version: { name: 'flywheel-teacher', version: '1' } },
    });
    expect(teacher.backendModel).toBe('flywheel-teacher/1');
    const feature = await db().feature.findUniqueOrThrow({ where: { id: 'inline-completion' } });
    expect(feature).toMatchObject({ task: 'completion', defaultModelVersionId: teacher.id });
    expect(feature.configHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers a completion from the teacher and stores a redacted Generation', async () => {
    const unitId = `u-${Math.random()}`;
    const { response, persisted } = await completeSuggestion(rt, {
      featureId: 'inline-completion',
      unitId,
      textBefore: 'Write to jane@example.com or call 555 0100. Thank you for',
      textAfter: '',
    });
    expect(response).toMatchObject({ tier: 'primary', modelVersion: 'flywheel-teacher/1' });
    expect(response.text.length).toBeGreaterThan(0);
    await persisted;
    const row = await db().generation.findUniqueOrThrow({
      where: { id: response.generationId! },
      include: { modelVersion: true },
    });
    expect(row).toMatchObject({
      featureId: 'inline-completion',
      unitId,
      tier: 'primary',
      backend: worker.baseUrl,
      seed: BigInt(seedFor(row.id)),
      prompt: 'Write to [email] or call [number]. Thank you for',
      error: null,
    });
    expect(row.modelVersion?.name).toBe('flywheel-teacher');
    expect(row.completionTokens).toBeGreaterThan(0);
    expect(row.ttftMs).toBeGreaterThan(0);
    expect(row.latencyMs).toBeGreaterThanOrEqual(row.ttftMs!);
    expect(row.traceId).toMatch(/^[0-9a-f]{32}$/);
    // The outbox copies for the configured sinks were written by the same statement.
    expect(await db().outbox.count({ where: { aggregateId: row.id, kind: 'generation' } })).toBe(2);
  });

  it('stores token counts with every model answer, also one cut at a sentence end', async () => {
    // Typed prompts ending in a space: the demo models often write past a sentence end there,
    // and the gateway answers at the sentence end (gateway.test.ts shows both ways of counting).
    const prompts = ['Hello! How ', 'It is done. It is done. It is ', 'Yes. No. Maybe ', 'OK. '];
    let modelAnswers = 0;
    for (const textBefore of prompts) {
      const { response, persisted } = await completeSuggestion(rt, {
        featureId: 'inline-completion',
        unitId: 'u-tokens',
        textBefore,
      });
      await persisted;
      const row = await db().generation.findUniqueOrThrow({
        where: { id: response.generationId! },
      });
      // (On a busy machine the 300 ms budget can pass a model by: the n-gram tier has no tokens.)
      if (row.tier !== 'primary' && row.tier !== 'fallback_model') continue;
      modelAnswers++;
      expect(row.promptTokens, textBefore).toBeGreaterThan(0);
      expect(row.completionTokens, textBefore).toBeGreaterThan(0);
    }
    expect(modelAnswers).toBeGreaterThan(0);
  });

  it('answers a 2,000-character prefix over the context from the primary model, with its last tokens', async () => {
    // Prose, then a list of hex ids (≈ 1 token a character) just before the cursor: the
    // 600 characters the feature sends are over the demo models' 256-token context.
    const ids = Array.from({ length: 90 }, (_, i) => ((i * 2654435761) >>> 0).toString(16));
    const tail = `Order ids: ${ids.join(', ')}. Thank you for`;
    const textBefore =
      `${'We shipped the release last week and it went well. '.repeat(40)}${tail}`.slice(-2000);
    expect(textBefore).toHaveLength(2000);
    const feature = FEATURES['inline-completion'];
    // Sent as it is, the prompt is refused: without truncation this request had no suggestion.
    const whole = await fetch(`${worker.baseUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'flywheel-teacher/1',
        prompt: renderPrompt(feature, { textBefore }),
        max_tokens: feature.maxTokens,
      }),
    });
    expect(whole.status).toBe(400);
    expect(await whole.text()).toContain('context_length_exceeded');

    const { response, persisted } = await completeSuggestion(rt, {
      featureId: 'inline-completion',
      unitId: 'u-long',
      textBefore,
    });
    expect(response).toMatchObject({ tier: 'primary', modelVersion: 'flywheel-teacher/1' });
    expect(response.text.length).toBeGreaterThan(0);
    await persisted;
    const row = await db().generation.findUniqueOrThrow({ where: { id: response.generationId! } });
    // The worker kept the last tokens that fit the 256-token context with room for max_tokens.
    expect(row.promptTokens).toBe(256 - feature.maxTokens);
  });

  it('still refuses a rewrite whose prompt is over the context (no truncation)', async () => {
    const { response, persisted } = await rewriteSuggestion(rt, {
      featureId: 'rewrite',
      unitId: 'u-r-long',
      selection: Array.from({ length: 400 }, (_, i) => ((i * 40503) >>> 0).toString(16)).join(' '),
      instruction: 'shorter',
    });
    expect(response).toMatchObject({ tier: 'none', text: '' });
    await persisted;
    const row = await db().generation.findUniqueOrThrow({ where: { id: response.generationId! } });
    expect(row.error).toContain('maximum context length is 256 tokens');
  });

  it('stores an abandoned request as aborted, with no outbox copy', async () => {
    const controller = new AbortController();
    controller.abort();
    const { response, persisted } = await completeSuggestion(
      rt,
      { featureId: 'inline-completion', unitId: 'u-abort', textBefore: 'Thank you for' },
      controller.signal,
    );
    expect(response).toMatchObject({ tier: 'none', text: '' });
    await persisted;
    const row = await db().generation.findUniqueOrThrow({ where: { id: response.generationId! } });
    expect(row).toMatchObject({ tier: 'none', error: 'aborted by the caller' });
    expect(await db().outbox.count({ where: { aggregateId: row.id } })).toBe(0);
  });

  it('answers the editor’s POST /complete as plain JSON, by the end-user rule', async () => {
    const api = (allowAnonymousWrite = true) =>
      suggestionsApi({
        getDb: db,
        getUser: () => Promise.resolve(null),
        runtime: () => rt,
        allowAnonymousWrite,
      }).onError((error) => errorResponse(error));
    const post = (body: string, allowAnonymous = true) =>
      api(allowAnonymous).request('/complete', { method: 'POST', body });
    const input = {
      featureId: 'inline-completion',
      unitId: 'u-complete',
      textBefore: 'Thank you for',
    };
    const ok = await post(JSON.stringify(input));
    expect(ok.status).toBe(200);
    const answer = (await ok.json()) as { generationId: string };
    expect(answer).toMatchObject({
      tier: 'primary',
      modelVersion: 'flywheel-teacher/1',
      recorded: true,
    });
    await expect
      .poll(() => db().generation.findUnique({ where: { id: answer.generationId } }))
      .toMatchObject({ unitId: 'u-complete', tier: 'primary', error: null });
    // The refusals of tRPC's suggestions.complete, in the public API's envelope.
    const refused = async (body: string, status: number, allowAnonymous = true) => {
      const res = await post(body, allowAnonymous);
      expect(res.status, body.slice(0, 80)).toBe(status);
      return ((await res.json()) as { error: { code: string; message: string } }).error;
    };
    expect(await refused(JSON.stringify(input), 401, false)).toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect(await refused('{not json', 400)).toMatchObject({ code: 'BAD_REQUEST' });
    await refused(JSON.stringify({ ...input, featureId: 'nope' }), 404);
    expect(await refused(JSON.stringify({ ...input, featureId: 'rewrite' }), 400)).toMatchObject({
      message: expect.stringContaining('rewrite feature'),
    });
    await refused(JSON.stringify({ ...input, textBefore: 'x'.repeat(300_000) }), 413);
  });

  it('streams a rewrite as server-sent events ending with done', async () => {
    // The sub-app as the public API mounts it, with this file's runtime (the real worker).
    const api = suggestionsApi({
      getDb: db,
      getUser: () => Promise.resolve(null),
      runtime: () => rt,
    });
    const res = await api.request('/rewrite', {
      method: 'POST',
      body: JSON.stringify({
        featureId: 'rewrite',
        unitId: 'u-rewrite',
        selection: 'i has went to the shop yesterday',
        instruction: 'fix_grammar',
      }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await sse(res);
    const done = events.at(-1)!;
    expect(done).toMatchObject({
      type: 'done',
      tier: 'primary',
      modelVersion: 'flywheel-teacher/1',
    });
    const deltas = events.filter((e) => e.type === 'delta').map((e) => e.text as string);
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.join('')).toBe(done.text);
  });

  it('answers bad rewrite input with 4xx JSON, before any stream', async () => {
    // Through the public API: its one error envelope.
    const post = (body: string) =>
      createPublicApi(db).request('/api/v1/suggestions/rewrite', { method: 'POST', body });
    expect((await post('{not json')).status).toBe(400);
    const bad = await post(
      JSON.stringify({ featureId: 'rewrite', unitId: 'u', selection: '', instruction: 'shorter' }),
    );
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { code: 'BAD_REQUEST', fieldErrors: { selection: expect.any(Array) } },
    });
    const unknown = await post(
      JSON.stringify({ featureId: 'nope', unitId: 'u', selection: 'x', instruction: 'shorter' }),
    );
    expect(unknown.status).toBe(404);
    // A completion feature is refused before the stream starts, not answered with tier "none".
    const wrongTask = await post(
      JSON.stringify({
        featureId: 'inline-completion',
        unitId: 'u',
        selection: 'x',
        instruction: 'shorter',
      }),
    );
    expect(wrongTask.status).toBe(400);
    expect(wrongTask.headers.get('content-type')).toContain('application/json');
    expect(await wrongTask.json()).toMatchObject({
      error: { message: expect.stringContaining('completion feature') },
    });
  });

  it('serves the rewrite stream under /api/v1 to end users only, by the end-user rule', async () => {
    // Through the public API as mounted (the process's runtime: no backends in tests, so silence).
    const res = await createPublicApi(db).request('/api/v1/suggestions/rewrite', {
      method: 'POST',
      body: JSON.stringify({
        featureId: 'rewrite',
        unitId: 'u-mounted',
        selection: 'hello there',
        instruction: 'shorter',
      }),
    });
    expect(res.status).toBe(200);
    expect((await sse(res)).at(-1)).toMatchObject({ type: 'done', tier: 'none', text: '' });
    // Without ALLOW_ANONYMOUS_WRITE: a signed-in user (from the request's headers), or a 401.
    const seen: (string | null)[] = [];
    const app = (user: { id: string } | null) =>
      new Hono()
        .route(
          '/',
          suggestionsApi({
            getDb: db,
            getUser: (headers) => {
              seen.push(headers.get('cookie'));
              return Promise.resolve(user);
            },
            runtime: () => rt,
            allowAnonymousWrite: false,
          }),
        )
        .onError((error, c) => c.json(toPublicError(error), toPublicError(error).status as 400));
    const body = JSON.stringify({
      featureId: 'rewrite',
      unitId: 'u-signed-in',
      selection: 'Thanks a lot!',
      instruction: 'more_formal',
    });
    const anonymous = await app(null).request('/rewrite', { method: 'POST', body });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    const signedIn = await app({ id: 'user-1' }).request('/rewrite', {
      method: 'POST',
      headers: { cookie: 'session=abc' },
      body,
    });
    expect(signedIn.status).toBe(200);
    expect((await sse(signedIn)).at(-1)).toMatchObject({ type: 'done', tier: 'primary' });
    expect(seen).toEqual([null, 'session=abc']);
  });

  it('rewrites whole through the service with the selection as the draft', async () => {
    const deltas: string[] = [];
    const { response } = await rewriteSuggestion(
      rt,
      {
        featureId: 'rewrite',
        unitId: 'u-r2',
        selection: 'Thanks a lot!',
        instruction: 'more_formal',
      },
      { onDelta: (t) => deltas.push(t) },
    );
    expect(response.tier).toBe('primary');
    expect(deltas.join('')).toBe(response.text);
  });

  it('refuses bad input on tRPC with 4xx, and degrades without backends', async () => {
    const caller = createCaller(contextFor(db(), null));
    const base = { featureId: 'inline-completion', unitId: 'u-trpc', textBefore: 'Thank you for' };
    await expect(caller.suggestions.complete({ ...base, featureId: 'nope' })).rejects.toMatchObject(
      { code: 'NOT_FOUND' },
    );
    await expect(
      caller.suggestions.complete({ ...base, featureId: 'rewrite' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      caller.suggestions.complete({ ...base, textBefore: 'x'.repeat(8001) }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(caller.suggestions.complete({ ...base, unitId: '' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    // The test process has no INFERENCE_BACKENDS: the n-gram tier answers, not an error.
    const answer = await caller.suggestions.complete(base);
    expect(answer).toMatchObject({ tier: 'ngram', text: ' your message.', modelVersion: null });
  });

  it('serves POST /api/v1/suggestions with an API key', async () => {
    const user = await makeUser(db(), 'viewer');
    const { key } = await createApiKey(
      db(),
      { id: user.id, role: 'viewer' },
      { name: 's', role: 'viewer' },
    );
    const api = createPublicApi(db);
    const post = (body: string, auth = true) =>
      api.fetch(
        new Request('http://localhost/api/v1/suggestions', {
          method: 'POST',
          headers: auth ? { authorization: `Bearer ${key}` } : {},
          body,
        }),
      );
    const ok = await post(
      JSON.stringify({
        featureId: 'inline-completion',
        unitId: 'u-api',
        textBefore: 'Looking forward to ',
      }),
    );
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      generationId: expect.any(String),
      tier: expect.any(String),
    });
    const rewrite = await post(
      JSON.stringify({
        featureId: 'rewrite',
        unitId: 'u-api',
        selection: 'hi',
        instruction: 'friendlier',
      }),
    );
    expect(rewrite.status).toBe(200);
    expect((await post('{}', false)).status).toBe(401);
    expect((await post('nope')).status).toBe(400);
    expect((await post(JSON.stringify({ featureId: 'x', unitId: 'u' }))).status).toBe(404);
  });
});
