import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { expect, it } from 'vitest';
import { appRouter } from '~/composition/root';
import { toSessionUser } from '~/server/trpc';
import { describeOnEachDatabase } from '~/test/databases';
import { createAuth } from './auth';
import { createUser } from '~/features/settings/server/user-service';
import { bootstrapAdmin } from '~/features/settings/server/bootstrap-admin';

const baseURL = 'http://localhost:3000';

describeOnEachDatabase('auth', ({ db }) => {
  const auth = () =>
    createAuth(db(), {
      secret: 'x'.repeat(32),
      baseURL,
      trustedOrigins: ['http://127.0.0.1:3000'],
    });
  const signIn = (email: string, password: string, origin = baseURL) =>
    auth().handler(
      new Request(`${baseURL}/api/auth/sign-in/email`, {
        method: 'POST',
        // A cookie, as a browser sends: Better Auth checks the origin of cookie-bearing requests.
        headers: { 'content-type': 'application/json', origin, cookie: 'theme=light' },
        body: JSON.stringify({ email, password }),
      }),
    );
  const trpc = (path: string, init: RequestInit & { cookie?: string } = {}) =>
    fetchRequestHandler({
      endpoint: '/api/trpc',
      req: new Request(`${baseURL}/api/trpc/${path}`, {
        ...init,
        headers: { ...init.headers, cookie: init.cookie ?? '' },
      }),
      router: appRouter,
      createContext: ({ req }) => ({
        db: db(),
        getUser: async () =>
          toSessionUser((await auth().api.getSession({ headers: req.headers }))?.user),
      }),
    });

  it('creates the first admin once, then signs in; wrong credentials get 401', async () => {
    const email = `admin-${Date.now()}@test.local`;
    await db().user.deleteMany({});
    const created = await bootstrapAdmin(db(), auth(), { email });
    expect(created?.password).toHaveLength(16);
    expect(await bootstrapAdmin(db(), auth(), { email })).toBeNull();

    expect((await signIn(email, 'wrong password!!')).status).toBe(401);
    expect((await signIn('nobody@test.local', 'whatever12345')).status).toBe(401);
    const ok = await signIn(email, created!.password);
    expect(ok.status).toBe(200);
    const cookie = ok.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');

    const me = await trpc('me', { cookie });
    expect(await me.json()).toMatchObject({ result: { data: { json: { email, role: 'admin' } } } });

    // An expired session is refused with a 401 and a message, not a 500.
    await db().session.updateMany({ data: { expiresAt: new Date(Date.now() - 60_000) } });
    const expired = await trpc('settings.users.list', { cookie });
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({
      error: { json: { message: expect.stringContaining('session has expired') } },
    });
  });

  it('accepts the trusted loopback origin and refuses foreign ones', async () => {
    const email = `loopback-${Date.now()}@test.local`;
    await createUser(db(), auth(), null, {
      name: 'L',
      email,
      password: 'correct horse battery',
      role: 'viewer',
    });
    expect((await signIn(email, 'correct horse battery', 'http://127.0.0.1:3000')).status).toBe(
      200,
    );
    expect((await signIn(email, 'correct horse battery', 'http://evil.example')).status).toBe(403);
  });

  it('answers malformed tRPC input and unknown procedures with 4xx', async () => {
    const email = `editor-${Date.now()}@test.local`;
    await createUser(db(), auth(), null, {
      name: 'E',
      email,
      password: 'correct horse battery',
      role: 'editor',
    });
    const cookie = (await signIn(email, 'correct horse battery')).headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const post = (body: string) =>
      trpc('settings.apiKeys.create', {
        method: 'POST',
        body,
        cookie,
        headers: { 'content-type': 'application/json' },
      });

    expect((await post('{not json')).status).toBe(400);
    const invalid = await post(JSON.stringify({ json: { name: 42 } }));
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({
      error: {
        json: { data: { fieldErrors: { name: expect.any(Array), role: expect.any(Array) } } },
      },
    });
    expect((await post(JSON.stringify({ json: { name: 'ok', role: 'viewer' } }))).status).toBe(200);
    expect((await trpc('settings.nothing', { cookie })).status).toBe(404);
  });
});
