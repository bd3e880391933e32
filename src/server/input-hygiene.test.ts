// Text PostgreSQL cannot store (NUL, lone surrogates) is a 400 naming the field on every route,
// never a 500, a silently dropped row or changed data.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeGeneration, lifecycleEvents } from '~/features/feedback/server/testing/fixtures';
import { createApiKey } from '~/features/settings/server/api-key-service';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { toPublicError } from './errors';
import { createPublicApi } from '~/composition/public-api';
import { findUnstorableText } from './input-hygiene';
import { appRouter, createCaller } from '~/composition/root';
import { contextFor } from './trpc';

const NUL = 'a\u0000b';
const LONE = 'x\uD800y';

describe('findUnstorableText', () => {
  it('finds NUL and lone surrogates in values and keys, with the path', () => {
    expect(findUnstorableText({ a: [{ b: 'ok' }, { c: NUL }] })).toMatchObject({ path: 'a.1.c' });
    expect(findUnstorableText({ a: LONE })?.problem).toMatch(/surrogate/);
    expect(findUnstorableText({ a: 'x\uDC00' })?.problem).toMatch(/surrogate/);
    expect(findUnstorableText({ [NUL]: 1 })?.path).toBe(JSON.stringify(NUL));
    expect(findUnstorableText(NUL)?.path).toBe('(input)');
  });

  it('passes ordinary text, emoji (surrogate pairs) and other types', () => {
    expect(
      findUnstorableText({ a: 'héllo 👋 世界', n: 1, b: null, t: true, d: [1, 'x'] }),
    ).toBeNull();
    expect(findUnstorableText(undefined)).toBeNull();
  });

  it('walks deep inputs without recursion', () => {
    let deep: unknown = NUL;
    for (let i = 0; i < 50_000; i++) deep = [deep];
    expect(findUnstorableText(deep)?.problem).toMatch(/NUL/);
  });
});

/** Every procedure of the app, by dotted path. */
const procedurePaths = Object.keys(
  (appRouter as unknown as { _def: { procedures: Record<string, unknown> } })._def.procedures,
);

describeOnEachDatabase('unstorable text on every route', ({ db }) => {
  const call = async (path: string, input: unknown, role: 'viewer' | 'admin' = 'admin') => {
    const user = await makeUser(db(), role);
    let target: unknown = createCaller(contextFor(db(), { ...user, role }));
    for (const part of path.split('.')) target = (target as Record<string, unknown>)[part];
    return (target as (input: unknown) => Promise<unknown>)(input).then(
      () => null,
      (error: unknown) => toPublicError(error),
    );
  };

  it('refuses NUL and lone surrogates with a 400 naming the field, on every tRPC procedure', async () => {
    expect(procedurePaths.length).toBeGreaterThan(5);
    for (const path of procedurePaths) {
      for (const bad of [NUL, LONE]) {
        const error = await call(path, { field: bad, nested: { ok: 'fine' } });
        expect(error, path).toMatchObject({
          status: 400,
          message: expect.stringContaining('field'),
          fieldErrors: { field: [expect.any(String)] },
        });
      }
    }
  });

  it('refuses it in each string field of the routes that reached PostgreSQL', async () => {
    const cases: [string, Record<string, unknown>, 'viewer' | 'admin'][] = [
      ['settings.apiKeys.create', { name: NUL, role: 'viewer' }, 'admin'],
      ['settings.users.setRole', { userId: NUL, role: 'viewer' }, 'admin'],
      [
        'settings.users.create',
        { name: 'n', email: 'a@b.c', password: `${NUL}xxxxxxxxxxxx`, role: 'viewer' },
        'admin',
      ],
      ['dashboards.recentGenerations', { featureId: NUL }, 'viewer'],
      [
        'suggestions.complete',
        { featureId: 'inline-completion', unitId: 'u', textBefore: NUL },
        'viewer',
      ],
      [
        'suggestions.complete',
        { featureId: 'inline-completion', unitId: NUL, textBefore: 'x' },
        'viewer',
      ],
      [
        'suggestions.complete',
        { featureId: 'inline-completion', unitId: 'u', textBefore: 'x', textAfter: LONE },
        'viewer',
      ],
    ];
    for (const [path, input, role] of cases) {
      const field = Object.entries(input).find(
        ([, v]) => v === NUL || v === LONE || String(v).includes('\u0000'),
      )![0];
      expect(await call(path, input, role), `${path} ${field}`).toMatchObject({
        status: 400,
        fieldErrors: { [field]: [expect.any(String)] },
      });
    }
    const unitId = `u-${randomUUID()}`;
    const generation = await makeGeneration(db(), unitId);
    const [shown] = lifecycleEvents(generation.id);
    const error = await call('feedback.ingest', {
      unitId,
      events: [{ ...shown, payload: { ...shown!.payload, note: NUL } }],
    });
    expect(error).toMatchObject({
      status: 400,
      fieldErrors: { 'events.0.payload.note': expect.any(Array) },
    });
  });

  it('refuses it on /api/v1 and on the rewrite stream', async () => {
    const user = await makeUser(db(), 'editor');
    const { key } = await createApiKey(
      db(),
      { id: user.id, role: 'editor' },
      { name: 'k', role: 'viewer' },
    );
    const post = (path: string, body: unknown) =>
      createPublicApi(db).fetch(
        new Request(`http://localhost/api/v1${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      );
    for (const [path, body, field] of [
      ['/feedback', { unitId: NUL, events: [] }, 'unitId'],
      [
        '/suggestions',
        { featureId: 'inline-completion', unitId: 'u', textBefore: LONE },
        'textBefore',
      ],
    ] as const) {
      const res = await post(path, body);
      expect(res.status, path).toBe(400);
      expect(await res.json()).toMatchObject({
        error: { fieldErrors: { [field]: expect.any(Array) } },
      });
    }
    const rewrite = await post('/suggestions/rewrite', {
      featureId: 'rewrite',
      unitId: 'u',
      selection: NUL,
      instruction: 'shorter',
    });
    expect(rewrite.status).toBe(400);
    expect(await rewrite.json()).toMatchObject({
      error: { fieldErrors: { selection: expect.any(Array) } },
    });
  });
});
