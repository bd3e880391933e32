import { suggestionRuntime } from '~/features/suggestions/server/suggestions-runtime';
import { createTRPCRouter, signedInProcedure } from '~/server/trpc';
import { listModelVersions } from './model-registry-service';

export const modelsRouter = createTRPCRouter({
  /** Registered model versions with their generation counts. */
  versions: signedInProcedure.query(({ ctx }) => listModelVersions(ctx.db)),
  /** Each inference backend with its circuit state, for the Models console. */
  backends: signedInProcedure.query(({ ctx }) => suggestionRuntime(ctx.db).pool.status()),
});
