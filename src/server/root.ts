import { dashboardsRouter } from '~/features/dashboards/server/dashboards-router';
import { settingsRouter } from '~/features/settings/server/settings-router';
import { createCallerFactory, createTRPCRouter, publicProcedure } from './trpc';

export const appRouter = createTRPCRouter({
  me: publicProcedure.query(({ ctx }) => ctx.user),
  settings: settingsRouter,
  dashboards: dashboardsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
