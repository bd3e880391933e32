import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { createAuth } from '~/features/auth/server/auth';
import { createCaller } from '~/composition/root';
import { toPublicError } from '~/server/errors';
import { contextFor, toSessionUser } from '~/server/trpc';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { createApiKey } from './api-key-service';
import {
  createUser,
  removeUser,
  resetUserPassword,
  setUserDisabled,
  setUserRole,
} from './user-service';

const baseURL = 'http://localhost:3000';
const PASSWORD = 'correct horse battery';

describeOnEachDatabase('user administration', ({ db }) => {
  const auth = () => createAuth(db(), { secret: 'u'.repeat(32), baseURL });
  const signIn = (email: string, password = PASSWORD) =>
    auth().handler(
      new Request(`${baseURL}/api/auth/sign-in/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: baseURL, cookie: 'a=b' },
        body: JSON.stringify({ email, password }),
      }),
    );
  const sessionOf = async (res: Response) => {
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    return auth().api.getSession({ headers: new Headers({ cookie }) });
  };
  const person = async (role: 'viewer' | 'editor' | 'admin' = 'viewer') => {
    const email = `${role}-${randomUUID()}@test.local`;
    const { id } = await createUser(db(), auth(), null, {
      name: role,
      email,
      password: PASSWORD,
      role,
    });
    return { id, email };
  };
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => null,
      (error: unknown) => toPublicError(error),
    );
  const audit = (entityId: string, action: string) =>
    db().auditLog.findFirst({ where: { entityId, action } });

  it('disables a user: sessions end, sign-in and API keys are refused; enabling restores', async () => {
    const admin = await person('admin');
    const user = await person('editor');
    const signedIn = await signIn(user.email);
    expect(await sessionOf(signedIn)).not.toBeNull();
    await createApiKey(db(), { id: user.id, role: 'editor' }, { name: 'k', role: 'viewer' });

    await setUserDisabled(db(), auth(), admin.id, { userId: user.id, disabled: true });
    expect(await sessionOf(signedIn)).toBeNull();
    const refused = await signIn(user.email);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'BANNED_USER' });
    expect(await audit(user.id, 'user.disable')).toMatchObject({
      actorId: admin.id,
      before: { banned: false },
      after: { banned: true },
    });
    expect(
      await refusal(setUserDisabled(db(), auth(), admin.id, { userId: user.id, disabled: true })),
    ).toMatchObject({ status: 409, message: expect.stringContaining('already disabled') });

    await setUserDisabled(db(), auth(), admin.id, { userId: user.id, disabled: false });
    expect((await signIn(user.email)).status).toBe(200);
    expect(await audit(user.id, 'user.enable')).not.toBeNull();
  });

  it('refuses an admin disabling, removing or demoting themselves with a 400', async () => {
    const admin = await person('admin');
    const attempts = [
      () => setUserDisabled(db(), auth(), admin.id, { userId: admin.id, disabled: true }),
      () => removeUser(db(), auth(), admin.id, admin.id),
      () => setUserRole(db(), admin.id, admin.id, 'viewer'),
    ];
    for (const attempt of attempts)
      expect(await refusal(attempt())).toMatchObject({
        status: 400,
        message: expect.stringContaining('ask another admin'),
      });
    expect(await db().user.findUnique({ where: { id: admin.id } })).toMatchObject({
      role: 'admin',
      banned: false,
    });
  });

  it('two admins acting on each other at once: one wins, an active admin remains', async () => {
    const rounds: [string, string][] = [];
    for (let round = 0; round < 4; round++) {
      const a = await person('admin');
      const b = await person('admin');
      const results = await Promise.all([
        refusal(setUserDisabled(db(), auth(), a.id, { userId: b.id, disabled: true })),
        round % 2
          ? refusal(removeUser(db(), auth(), b.id, a.id))
          : refusal(setUserDisabled(db(), auth(), b.id, { userId: a.id, disabled: true })),
      ]);
      rounds.push([results[0] ? 'refused' : 'ok', results[1] ? 'refused' : 'ok']);
      const refused = results.filter((r) => r !== null);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatchObject({ status: 403 });
      const left = await db().user.findMany({ where: { id: { in: [a.id, b.id] } } });
      expect(left.filter((u) => u.role === 'admin' && !u.banned)).toHaveLength(1);
    }
    console.log(`mutual disable/remove outcomes (a→b, b→a): ${JSON.stringify(rounds)}`);
  });

  it('removes a user with their sessions and keys; the audit keeps who it was', async () => {
    const admin = await person('admin');
    const user = await person('viewer');
    await signIn(user.email);
    const { id: keyId } = await createApiKey(
      db(),
      { id: user.id, role: 'viewer' },
      { name: 'k', role: 'viewer' },
    );
    await removeUser(db(), auth(), admin.id, user.id);
    expect(await db().user.findUnique({ where: { id: user.id } })).toBeNull();
    expect(await db().session.count({ where: { userId: user.id } })).toBe(0);
    expect(await db().apiKey.findUnique({ where: { id: keyId } })).toBeNull();
    expect(await audit(user.id, 'user.remove')).toMatchObject({
      actorId: admin.id,
      before: { email: user.email, role: 'viewer' },
    });
    expect(await refusal(removeUser(db(), auth(), admin.id, user.id))).toMatchObject({
      status: 404,
    });
    expect((await signIn(user.email)).status).toBe(401);
  });

  it('resets a password: the old one stops working, the user is signed out elsewhere', async () => {
    const admin = await person('admin');
    const user = await person('viewer');
    const before = await signIn(user.email);
    await resetUserPassword(db(), auth(), admin.id, {
      userId: user.id,
      password: 'a brand new password',
    });
    expect(await sessionOf(before)).toBeNull();
    expect((await signIn(user.email)).status).toBe(401);
    expect((await signIn(user.email, 'a brand new password')).status).toBe(200);
    const entry = await audit(user.id, 'user.reset_password');
    expect(entry).toMatchObject({ actorId: admin.id });
    expect(JSON.stringify(entry)).not.toContain('a brand new password');
    expect(
      await refusal(
        resetUserPassword(db(), auth(), admin.id, { userId: user.id, password: 'short' }),
      ),
    ).toMatchObject({ status: 400 });
    expect(
      await refusal(
        resetUserPassword(db(), auth(), admin.id, { userId: 'nobody', password: PASSWORD }),
      ),
    ).toMatchObject({ status: 404 });
  });

  it('keeps the new procedures to admins and validates their input', async () => {
    for (const role of ['viewer', 'editor'] as const) {
      const caller = createCaller(contextFor(db(), toSessionUser(await makeUser(db(), role))));
      const calls = [
        () => caller.settings.users.setDisabled({ userId: 'x', disabled: true }),
        () => caller.settings.users.remove({ userId: 'x' }),
        () => caller.settings.users.resetPassword({ userId: 'x', password: PASSWORD }),
      ];
      for (const call of calls) await expect(call()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    const admin = createCaller(contextFor(db(), toSessionUser(await makeUser(db(), 'admin'))));
    await expect(
      admin.settings.users.resetPassword({ userId: 'x', password: 'short' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(admin.settings.users.remove({ userId: '' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});
