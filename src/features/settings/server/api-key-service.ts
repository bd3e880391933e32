import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '~/server/db';
import { DomainError, ForbiddenError, NotFoundError, UnauthorizedError } from '~/server/errors';
import { recordAudit } from '~/features/audit/server/audit-service';
import { hasRole, type Role } from '~/features/auth/roles';

const KEY_PREFIX = 'fw_';
const LAST_USED_RESOLUTION_MS = 60_000;

// Keys carry 256 random bits, so a plain SHA-256 is a sufficient one-way store (no slow hash
// needed, unlike passwords) and lets a request be authenticated with one indexed lookup.
function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export interface ApiKeyPrincipal {
  keyId: string;
  userId: string;
  role: Role;
}

export async function createApiKey(
  db: Db,
  owner: { id: string; role: Role },
  input: { name: string; role: Role; expiresAt?: Date },
): Promise<{ id: string; key: string; prefix: string }> {
  if (!hasRole(owner.role, input.role)) {
    throw new ForbiddenError(`A ${owner.role} cannot create a key with the ${input.role} role`);
  }
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const prefix = key.slice(0, KEY_PREFIX.length + 6);
  const created = await db.$transaction(async (tx) => {
    const row = await tx.apiKey.create({
      data: {
        name: input.name,
        role: input.role,
        prefix,
        keyHash: hashKey(key),
        userId: owner.id,
        expiresAt: input.expiresAt,
      },
    });
    await recordAudit(
      tx,
      { type: 'user', userId: owner.id },
      {
        action: 'api_key.create',
        entityType: 'api_key',
        entityId: row.id,
        after: { name: row.name, role: row.role, prefix },
      },
    );
    return row;
  });
  return { id: created.id, key, prefix };
}

export async function listApiKeys(db: Db, userId: string) {
  return db.apiKey.findMany({
    where: { userId },
    orderBy: { createdAt: 'desc' },
    select: {
      id: true,
      name: true,
      prefix: true,
      role: true,
      createdAt: true,
      lastUsedAt: true,
      expiresAt: true,
      revokedAt: true,
    },
  });
}

export async function revokeApiKey(
  db: Db,
  actor: { id: string; role: Role },
  keyId: string,
): Promise<void> {
  await db.$transaction(async (tx) => {
    const key = await tx.apiKey.findUnique({ where: { id: keyId } });
    // Someone else's key is reported as missing unless an admin asks.
    if (!key || (key.userId !== actor.id && actor.role !== 'admin'))
      throw new NotFoundError('API key');
    if (key.revokedAt) throw new DomainError('CONFLICT', 'This API key is already revoked');
    await tx.apiKey.update({ where: { id: keyId }, data: { revokedAt: new Date() } });
    await recordAudit(
      tx,
      { type: 'user', userId: actor.id },
      {
        action: 'api_key.revoke',
        entityType: 'api_key',
        entityId: keyId,
        before: { revokedAt: null },
      },
    );
  });
}

/** Resolves an `Authorization: Bearer fw_…` key; unknown, expired or revoked keys are refused. */
export async function authenticateApiKey(
  db: Db,
  key: string | undefined,
): Promise<ApiKeyPrincipal> {
  if (!key?.startsWith(KEY_PREFIX)) {
    throw new UnauthorizedError(
      'Send an API key as "Authorization: Bearer fw_…" (create one in Settings → API keys)',
    );
  }
  const row = await db.apiKey.findUnique({
    where: { keyHash: hashKey(key) },
    include: { user: true },
  });
  if (!row || row.revokedAt)
    throw new UnauthorizedError('This API key is invalid or has been revoked');
  if (row.expiresAt && row.expiresAt < new Date())
    throw new UnauthorizedError('This API key has expired');
  if (row.user.banned) throw new UnauthorizedError('The owner of this API key is disabled');
  // The key acts with the lower of its own role and its owner's current role.
  const role: Role = hasRole(row.user.role, row.role) ? row.role : row.user.role;
  // "Last used" to the minute: not a write on every request of a busy client.
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    void db.apiKey
      .update({ where: { id: row.id }, data: { lastUsedAt: new Date() } })
      .catch(() => undefined);
  }
  return { keyId: row.id, userId: row.userId, role };
}
