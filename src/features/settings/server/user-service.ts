import type { Prisma } from '~/generated/prisma/client';
import type { Db } from '~/server/db';
import { DomainError, ForbiddenError, NotFoundError } from '~/server/errors';
import { recordAudit } from '~/features/audit/server/audit-service';
import type { Auth } from '~/features/auth/server/auth';
import type { Role } from '~/features/auth/roles';

/** Arbitrary, fixed: the key of the advisory lock that serializes changes to admins. */
const USER_ADMIN_LOCK = 7_114_209_311n;

export async function listUsers(db: Db) {
  return db.user.findMany({
    orderBy: { createdAt: 'asc' },
    select: { id: true, name: true, email: true, role: true, banned: true, createdAt: true },
  });
}

export async function createUser(
  db: Db,
  auth: Auth,
  actorId: string | null,
  input: { name: string; email: string; password: string; role: Role },
): Promise<{ id: string }> {
  const email = input.email.toLowerCase();
  const exists = () => new DomainError('CONFLICT', `A user with the email ${email} already exists`);
  if (await db.user.findUnique({ where: { email } })) throw exists();
  const { user } = await auth.api
    .createUser({ body: { name: input.name, email, password: input.password, role: input.role } })
    .catch(async (error: unknown) => {
      // A concurrent create of the same email won the unique key between our check and insert.
      if (await db.user.findUnique({ where: { email }, select: { id: true } })) throw exists();
      throw error;
    });
  await recordAudit(
    db,
    { type: actorId ? 'user' : 'system', userId: actorId },
    {
      action: 'user.create',
      entityType: 'user',
      entityId: user.id,
      after: { email, role: input.role },
    },
  );
  return { id: user.id };
}

/**
 * Role changes, disabling and removal take one lock, and under it the actor must still be an
 * active admin. An admin cannot act on themselves, so an active admin (the actor) always remains,
 * also when two admins disable each other at once: the second finds itself disabled and is refused.
 */
async function asActiveAdmin<T>(
  db: Db,
  actorId: string,
  change: (tx: Prisma.TransactionClient) => Promise<T>,
): Promise<T> {
  return db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(${USER_ADMIN_LOCK}::bigint)) l`;
    const actor = await tx.user.findUnique({ where: { id: actorId } });
    if (!actor || actor.role !== 'admin' || actor.banned)
      throw new ForbiddenError('Only an active admin can change users');
    return change(tx);
  });
}

async function findTarget(tx: Prisma.TransactionClient, userId: string) {
  const user = await tx.user.findUnique({ where: { id: userId } });
  if (!user) throw new NotFoundError('User');
  return user;
}

export async function setUserRole(
  db: Db,
  actorId: string,
  userId: string,
  role: Role,
): Promise<void> {
  await asActiveAdmin(db, actorId, async (tx) => {
    const user = await findTarget(tx, userId);
    if (user.id === actorId && role !== 'admin') {
      throw new DomainError('BAD_REQUEST', 'You cannot lower your own role; ask another admin');
    }
    await tx.user.update({ where: { id: userId }, data: { role } });
    await recordAudit(
      tx,
      { type: 'user', userId: actorId },
      {
        action: 'user.set_role',
        entityType: 'user',
        entityId: userId,
        before: { role: user.role },
        after: { role },
      },
    );
  });
}

/**
 * Disables (bans) or re-enables a user with Better Auth's admin plugin's own operations: a
 * disabled user's sessions end, signing in is refused, and their API keys stop working.
 */
export async function setUserDisabled(
  db: Db,
  auth: Auth,
  actorId: string,
  input: { userId: string; disabled: boolean },
): Promise<void> {
  const { internalAdapter } = await auth.$context;
  await asActiveAdmin(db, actorId, async (tx) => {
    const user = await findTarget(tx, input.userId);
    if (input.disabled && user.id === actorId)
      throw new DomainError('BAD_REQUEST', 'You cannot disable yourself; ask another admin');
    if (Boolean(user.banned) === input.disabled)
      throw new DomainError(
        'CONFLICT',
        `This user is already ${input.disabled ? 'disabled' : 'enabled'}`,
      );
    await internalAdapter.updateUser(user.id, {
      banned: input.disabled,
      banReason: input.disabled ? 'Disabled by an admin' : null,
      banExpires: null,
      updatedAt: new Date(),
    });
    if (input.disabled) await internalAdapter.deleteUserSessions(user.id);
    await recordAudit(
      tx,
      { type: 'user', userId: actorId },
      {
        action: input.disabled ? 'user.disable' : 'user.enable',
        entityType: 'user',
        entityId: user.id,
        before: { banned: Boolean(user.banned) },
        after: { banned: input.disabled },
      },
    );
  });
}

/** Deletes a user with their sessions, accounts and API keys; the audit keeps their email. */
export async function removeUser(
  db: Db,
  auth: Auth,
  actorId: string,
  userId: string,
): Promise<void> {
  const { internalAdapter } = await auth.$context;
  await asActiveAdmin(db, actorId, async (tx) => {
    const user = await findTarget(tx, userId);
    if (user.id === actorId)
      throw new DomainError('BAD_REQUEST', 'You cannot remove yourself; ask another admin');
    await internalAdapter.deleteUserSessions(user.id);
    await internalAdapter.deleteUser(user.id);
    await recordAudit(
      tx,
      { type: 'user', userId: actorId },
      {
        action: 'user.remove',
        entityType: 'user',
        entityId: user.id,
        before: { email: user.email, role: user.role },
      },
    );
  });
}

/**
 * Sets a new password (hashed by Better Auth) and ends the user's other sessions, so whoever
 * knew the old one is signed out. The audit records that it happened, never the password.
 */
export async function resetUserPassword(
  db: Db,
  auth: Auth,
  actorId: string,
  input: { userId: string; password: string },
): Promise<void> {
  const context = await auth.$context;
  const { minPasswordLength, maxPasswordLength } = context.password.config;
  if (input.password.length < minPasswordLength || input.password.length > maxPasswordLength)
    throw new DomainError(
      'BAD_REQUEST',
      `Use a password of ${minPasswordLength} to ${maxPasswordLength} characters`,
    );
  const user = await db.user.findUnique({ where: { id: input.userId } });
  if (!user) throw new NotFoundError('User');
  const hash = await context.password.hash(input.password);
  if (await context.internalAdapter.findCredentialAccount(user.id))
    await context.internalAdapter.updatePassword(user.id, hash);
  else
    await context.internalAdapter.createAccount({
      userId: user.id,
      providerId: 'credential',
      accountId: user.id,
      password: hash,
    });
  if (user.id !== actorId) await context.internalAdapter.deleteUserSessions(user.id);
  await recordAudit(
    db,
    { type: 'user', userId: actorId },
    { action: 'user.reset_password', entityType: 'user', entityId: user.id },
  );
}
