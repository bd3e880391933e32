import { settingsRouter } from '~/features/settings/server/settings-router';
import { createCallerFactory, createTRPCRouter, publicProcedure } from './trpc';

export const appRouter = createTRPCRouter({
  me: publicProcedure.query(({ ctx }) => ctx.user),
  settings: settingsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
