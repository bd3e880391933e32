import type { Prisma } from '~/generated/prisma/client';

export interface Actor {
  type: 'user' | 'api_key' | 'system';
  userId: string | null;
}

type AuditWriter = {
  auditLog: { create(args: { data: Prisma.AuditLogUncheckedCreateInput }): Promise<unknown> };
};

/** Appends one audit entry; pass the transaction client so the change and its entry commit together. */
export async function recordAudit(
  tx: AuditWriter,
  actor: Actor,
  entry: {
    action: string;
    entityType: string;
    entityId: string;
    before?: unknown;
    after?: unknown;
  },
): Promise<void> {
  await tx.auditLog.create({
    data: {
      actorId: actor.userId,
      actorType: actor.type,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId,
      before: entry.before ?? undefined,
      after: entry.after ?? undefined,
    },
  });
}
