import type { Db } from '~/server/db';
import { DomainError, NotFoundError } from '~/server/errors';
import { recordAudit } from '~/features/audit/server/audit-service';
import type { Auth } from '~/features/auth/server/auth';
import type { Role } from '~/features/auth/roles';

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

export async function setUserRole(
  db: Db,
  actorId: string,
  userId: string,
  role: Role,
): Promise<void> {
  await db.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id: userId } });
    if (!user) throw new NotFoundError('User');
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
