import { z } from 'zod';
import { auth } from '~/features/auth/server/app-auth';
import { ROLES } from '~/features/auth/roles';
import { adminProcedure, createTRPCRouter, signedInProcedure } from '~/server/trpc';
import { createApiKey, listApiKeys, revokeApiKey } from './api-key-service';
import {
  createUser,
  listUsers,
  removeUser,
  resetUserPassword,
  setUserDisabled,
  setUserRole,
} from './user-service';

const role = z.enum(ROLES);
const userId = z.string().trim().min(1, 'Name a user by id').max(100);
const password = z.string().min(12, 'Use at least 12 characters').max(256);

export const settingsRouter = createTRPCRouter({
  apiKeys: createTRPCRouter({
    list: signedInProcedure.query(({ ctx }) => listApiKeys(ctx.db, ctx.user.id)),
    create: signedInProcedure
      .input(
        z.object({
          name: z.string().trim().min(1).max(80),
          role,
          expiresInDays: z.number().int().min(1).max(3650).optional(),
        }),
      )
      .mutation(({ ctx, input }) =>
        createApiKey(ctx.db, ctx.user, {
          name: input.name,
          role: input.role,
          expiresAt: input.expiresInDays
            ? new Date(Date.now() + input.expiresInDays * 86_400_000)
            : undefined,
        }),
      ),
    revoke: signedInProcedure
      .input(z.object({ id: z.string().uuid() }))
      .mutation(({ ctx, input }) => revokeApiKey(ctx.db, ctx.user, input.id)),
  }),
  users: createTRPCRouter({
    list: adminProcedure.query(({ ctx }) => listUsers(ctx.db)),
    create: adminProcedure
      .input(
        z.object({
          name: z.string().trim().min(1).max(120),
          email: z.string().trim().email(),
          password,
          role,
        }),
      )
      .mutation(({ ctx, input }) => createUser(ctx.db, auth(), ctx.user.id, input)),
    setRole: adminProcedure
      .input(z.object({ userId, role }))
      .mutation(({ ctx, input }) => setUserRole(ctx.db, ctx.user.id, input.userId, input.role)),
    setDisabled: adminProcedure
      .input(z.object({ userId, disabled: z.boolean() }))
      .mutation(({ ctx, input }) => setUserDisabled(ctx.db, auth(), ctx.user.id, input)),
    remove: adminProcedure
      .input(z.object({ userId }))
      .mutation(({ ctx, input }) => removeUser(ctx.db, auth(), ctx.user.id, input.userId)),
    resetPassword: adminProcedure
      .input(z.object({ userId, password }))
      .mutation(({ ctx, input }) => resetUserPassword(ctx.db, auth(), ctx.user.id, input)),
  }),
});
