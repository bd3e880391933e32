// Every answer belongs to its caller: many principals (API keys and browser sessions of users
// with different roles) call `me`, the user list and feedback ingest all at once, on each
// database. This is the test that caught the embedded database answering for other sessions.
import { randomUUID } from 'node:crypto';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { beforeAll, expect, it } from 'vitest';
import { createAuth } from '~/features/auth/server/auth';
import type { Role } from '~/features/auth/roles';
import { lifecycleEvents, makeGeneration } from '~/features/feedback/server/testing/fixtures';
import { createApiKey } from '~/features/settings/server/api-key-service';
import { createUser } from '~/features/settings/server/user-service';
import { appRouter } from '~/composition/root';
import { toSessionUser } from '~/server/trpc';
import { describeOnEachDatabase } from '~/test/databases';
import { createPublicApi } from './public-api';

const baseURL = 'http://localhost:3000';
const ROLES: Role[] = ['viewer', 'viewer', 'editor', 'editor', 'admin', 'admin'];
const ROUNDS = 15;

interface Principal {
  userId: string;
  role: Role;
  unitId: string;
  generationId: string;
  apiKey: string;
  cookie: string;
}

describeOnEachDatabase('answers under concurrent principals', ({ db }) => {
  const auth = () => createAuth(db(), { secret: 'y'.repeat(32), baseURL });
  const trpc = (path: string, cookie: string, body?: unknown) =>
    fetchRequestHandler({
      endpoint: '/api/trpc',
      req: new Request(`${baseURL}/api/trpc/${path}`, {
        method: body ? 'POST' : 'GET',
        headers: { cookie, 'content-type': 'application/json', origin: baseURL },
        body: body ? JSON.stringify({ json: body }) : undefined,
      }),
      router: appRouter,
      createContext: ({ req }) => ({
        db: db(),
        getUser: async () =>
          toSessionUser((await auth().api.getSession({ headers: req.headers }))?.user),
      }),
    });
  const v1 = (path: string, key: string) =>
    createPublicApi(db).fetch(
      new Request(`${baseURL}/api/v1${path}`, { headers: { authorization: `Bearer ${key}` } }),
    );

  const principals: Principal[] = [];
  beforeAll(async () => {
    for (const role of ROLES) {
      const email = `p-${randomUUID()}@test.local`;
      const password = 'correct horse battery';
      const { id } = await createUser(db(), auth(), null, { name: role, email, password, role });
      const { key } = await createApiKey(db(), { id, role }, { name: 'k', role });
      const signIn = await auth().handler(
        new Request(`${baseURL}/api/auth/sign-in/email`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: baseURL, cookie: 'a=b' },
          body: JSON.stringify({ email, password }),
        }),
      );
      expect(signIn.status).toBe(200);
      const cookie = signIn.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const unitId = `unit-${randomUUID()}`;
      const generation = await makeGeneration(db(), unitId);
      principals.push({
        userId: id,
        role,
        unitId,
        generationId: generation.id,
        apiKey: key,
        cookie,
      });
    }
  });

  it('answers every concurrent request for its own caller', async () => {
    const wrong: string[] = [];
    let requests = 0;
    const check = (ok: boolean, what: string) => {
      requests++;
      if (!ok) wrong.push(what);
    };
    const calls = principals.flatMap((p, i) =>
      Array.from({ length: ROUNDS }, (_, round) => [
        // API key: /api/v1/me names the key's owner and role.
        async () => {
          const res = await v1('/me', p.apiKey);
          const body = (await res.json()) as { userId?: string; role?: string };
          check(
            res.status === 200 && body.userId === p.userId && body.role === p.role,
            `key me ${i}`,
          );
        },
        // Session: tRPC me names the signed-in user.
        async () => {
          const res = await trpc('me', p.cookie);
          const body = (await res.json()) as { result?: { data?: { json?: { id?: string } } } };
          check(res.status === 200 && body.result?.data?.json?.id === p.userId, `session me ${i}`);
        },
        // Session: the user list is for admins only; others get 403, never the list.
        async () => {
          const res = await trpc('settings.users.list', p.cookie);
          check(res.status === (p.role === 'admin' ? 200 : 403), `users.list ${i} (${p.role})`);
        },
        // Ingest: this unit's events are stored, none refused.
        async () => {
          const events = lifecycleEvents(p.generationId).map((e) => ({
            ...e,
            clientEventId: `${randomUUID()}`,
          }));
          const res = await trpc('feedback.ingest', p.cookie, { unitId: p.unitId, events });
          const body = (await res.json()) as {
            result?: { data?: { json?: { accepted?: number; rejected?: unknown[] } } };
          };
          const result = body.result?.data?.json;
          check(
            res.status === 200 && result?.accepted === 3 && result.rejected?.length === 0,
            `ingest ${i} round ${round}`,
          );
        },
      ]),
    );
    await Promise.all(calls.flat().map((call) => call()));
    const stored = await db().feedbackEvent.count({
      where: { generationId: { in: principals.map((p) => p.generationId) } },
    });
    console.log(
      `${requests} concurrent requests from ${principals.length * 2} principals: ` +
        `${wrong.length} answered wrongly; ${stored} of ${principals.length * ROUNDS * 3} events stored`,
    );
    expect(wrong).toEqual([]);
    expect(requests).toBe(principals.length * ROUNDS * 4);
    expect(stored).toBe(principals.length * ROUNDS * 3);
  });
});
