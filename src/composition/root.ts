import { datasetsRouter } from '~/features/datasets/server/datasets-router';
import { dashboardsRouter } from '~/features/dashboards/server/dashboards-router';
import { evalsRouter } from '~/features/evals/server/evals-router';
import { experimentsRouter } from '~/features/experiments/server/experiments-router';
import { feedbackRouter } from '~/features/feedback/server/feedback-router';
import { modelsRouter } from '~/features/models/server/models-router';
import { settingsRouter } from '~/features/settings/server/settings-router';
import { suggestionsRouter } from '~/features/suggestions/server/suggestions-router';
import { suggestionRuntime } from '~/features/suggestions/server/suggestions-runtime';
import {
  createCallerFactory,
  createTRPCRouter,
  mergeRouters,
  publicProcedure,
  signedInProcedure,
} from '~/server/trpc';

// Each inference backend with its circuit state, for the Models console: the suggestion
// runtime's pool, shown beside the registry (so models need not import suggestions).
const backendsRouter = createTRPCRouter({
  backends: signedInProcedure.query(({ ctx }) => suggestionRuntime(ctx.db).pool.status()),
});

export const appRouter = createTRPCRouter({
  me: publicProcedure.query(({ ctx }) => ctx.getUser()),
  settings: settingsRouter,
  suggestions: suggestionsRouter,
  models: mergeRouters(modelsRouter, backendsRouter),
  feedback: feedbackRouter,
  dashboards: dashboardsRouter,
  experiments: experimentsRouter,
  datasets: datasetsRouter,
  evals: evalsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
