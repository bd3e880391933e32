import { createTRPCRouter, editorProcedure, signedInProcedure } from '~/server/trpc';
import {
  listModelVersions,
  registerModelVersion,
  registrationSchema,
} from './model-registry-service';

export const modelsRouter = createTRPCRouter({
  /** Registered model versions with their generation counts. */
  versions: signedInProcedure.query(({ ctx }) => listModelVersions(ctx.db)),
  /** A trained version with its lineage (the CLI and API do the same through the service). */
  register: editorProcedure
    .input(registrationSchema)
    .mutation(({ ctx, input }) =>
      registerModelVersion(ctx.db, { type: 'user', userId: ctx.user.id }, input),
    ),
});
