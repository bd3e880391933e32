// The suggestion routes over HTTP on both databases (the editor's POST /complete, the rewrite
// stream, /api/v1 with an API key), with the real worker as the backend (started once for the file).
import { Hono } from 'hono';
import { expect, it } from 'vitest';
import { createApiKey } from '~/features/settings/server/api-key-service';
import { toPublicError } from '~/server/errors';
import { errorResponse } from '~/server/http/error-response';
import { createPublicApi } from '~/composition/public-api';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { suggestionsApi } from './suggestions-api';
import { workerPerFile } from './testing/gateway-fixtures';
import { suggestionRuntimeFor } from './testing/suggestions-fixtures';

const worker = workerPerFile();

const sse = async (res: Response) =>
  (await res.text())
    .split('\n\n')
    .filter((f) => f.startsWith('data: '))
    .map((f) => JSON.parse(f.slice(6)) as Record<string, unknown>);

describeOnEachDatabase('suggestion routes', ({ db }) => {
  const runtime = suggestionRuntimeFor(db, worker);
  it('answers the editor’s POST /complete as plain JSON, by the end-user rule', async () => {
    const api = (allowAnonymousWrite = true) =>
      suggestionsApi({
        getDb: db,
        getUser: () => Promise.resolve(null),
        runtime: () => runtime(),
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
      runtime: () => runtime(),
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
            runtime: () => runtime(),
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
