import { z } from 'zod';
import { createTRPCRouter, roleProcedure } from '~/server/trpc';
import { dashboardFiltersSchema } from '../filters';
import { readDashboard, readFilterOptions, readFreshness } from './dashboards-service';
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
  metrics: roleProcedure('viewer')
    .input(dashboardFiltersSchema)
    .query(({ ctx, input }) => readDashboard(ctx.db, input)),
  filterOptions: roleProcedure('viewer').query(({ ctx }) => readFilterOptions(ctx.db)),
  freshness: roleProcedure('viewer').query(({ ctx }) => readFreshness(ctx.db)),
});
