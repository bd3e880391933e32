import { expect, it } from 'vitest';
import { createCaller } from '~/composition/root';
import { contextFor, toSessionUser } from '~/server/trpc';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import type { Db } from '~/server/db';
import { toPublicError } from '~/server/errors';
import { createAuth } from '~/features/auth/server/auth';
import { createUser } from './user-service';

async function callerAs(db: Db, role: 'viewer' | 'editor' | 'admin' | null) {
  const user = role ? toSessionUser(await makeUser(db, role)) : null;
  return { caller: createCaller(contextFor(db, user)), user };
}

describeOnEachDatabase('settings router', ({ db }) => {
  it('answers concurrent creates of one email with one user and 409s, never a 500', async () => {
    const auth = createAuth(db(), { secret: 'z'.repeat(32), baseURL: 'http://localhost:3000' });
    for (let round = 0; round < 3; round++) {
      const email = `race-${round}-${Date.now()}@test.local`;
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          createUser(db(), auth, null, {
            name: `R${i}`,
            email,
            password: 'correct horse battery',
            role: 'viewer',
          }).then(
            () => 200,
            (error: unknown) => toPublicError(error),
          ),
        ),
      );
      expect(results.filter((r) => r === 200)).toHaveLength(1);
      for (const r of results.filter((r) => r !== 200))
        expect(r).toMatchObject({ status: 409, message: expect.stringContaining(email) });
      expect(await db().user.count({ where: { email } })).toBe(1);
    }
  });

  it('refuses every signed-in procedure without a session', async () => {
    const { caller } = await callerAs(db(), null);
    await expect(caller.settings.apiKeys.list()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(caller.settings.users.list()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await caller.me()).toBeNull();
  });

  it.each(['viewer', 'editor'] as const)('refuses user administration to a %s', async (role) => {
    const { caller } = await callerAs(db(), role);
    await expect(caller.settings.users.list()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      caller.settings.users.create({
        name: 'X',
        email: `x-${role}@test.local`,
        password: 'long enough pw',
        role: 'viewer',
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      caller.settings.users.setRole({ userId: 'anyone', role: 'admin' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('lets an admin change roles, audited, but not lower their own', async () => {
    const { caller, user: admin } = await callerAs(db(), 'admin');
    const target = await makeUser(db(), 'viewer');
    await caller.settings.users.setRole({ userId: target.id, role: 'editor' });
    expect((await db().user.findUniqueOrThrow({ where: { id: target.id } })).role).toBe('editor');
    const audit = await db().auditLog.findFirstOrThrow({
      where: { entityId: target.id, action: 'user.set_role' },
    });
    expect(audit).toMatchObject({
      actorId: admin!.id,
      before: { role: 'viewer' },
      after: { role: 'editor' },
    });
    await expect(
      caller.settings.users.setRole({ userId: admin!.id, role: 'viewer' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      caller.settings.users.setRole({ userId: 'missing', role: 'viewer' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a key with a role above its creator', async () => {
    const { caller } = await callerAs(db(), 'viewer');
    await expect(
      caller.settings.apiKeys.create({ name: 'k', role: 'editor' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const { key } = await caller.settings.apiKeys.create({ name: 'k', role: 'viewer' });
    expect(key).toMatch(/^fw_/);
  });

  it('stores keys hashed, shows them once and revokes them', async () => {
    const { caller } = await callerAs(db(), 'editor');
    const created = await caller.settings.apiKeys.create({ name: 'ingest', role: 'editor' });
    const row = await db().apiKey.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.keyHash).not.toContain(created.key);
    expect(JSON.stringify(await caller.settings.apiKeys.list())).not.toContain(created.key);
    await caller.settings.apiKeys.revoke({ id: created.id });
    await expect(caller.settings.apiKeys.revoke({ id: created.id })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    // Another user's key looks missing.
    const { caller: other } = await callerAs(db(), 'editor');
    const theirs = await other.settings.apiKeys.create({ name: 'theirs', role: 'viewer' });
    await expect(caller.settings.apiKeys.revoke({ id: theirs.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('rejects malformed input with field errors', async () => {
    const { caller } = await callerAs(db(), 'admin');
    await expect(
      caller.settings.apiKeys.create({ name: '', role: 'boss' as 'admin' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(caller.settings.apiKeys.revoke({ id: 'not-a-uuid' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});
