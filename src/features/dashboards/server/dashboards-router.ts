import { z } from 'zod';
import { createTRPCRouter, roleProcedure } from '~/server/trpc';
import { recentGenerations } from './recent-generations';

export const dashboardsRouter = createTRPCRouter({
  recentGenerations: roleProcedure('viewer')
    .input(
      z.object({
        featureId: z.string().max(100).optional(),
        limit: z.number().int().min(1).max(200).default(50),
      }),
    )
    .query(({ ctx, input }) => recentGenerations(ctx.db, input)),
});
