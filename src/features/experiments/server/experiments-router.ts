import { z } from 'zod';
import {
  createExperimentInput,
  defaultVersionInput,
  EXPERIMENT_STATUSES,
  experimentActionInput,
  holdoutInput,
  updateExperimentInput,
} from '~/features/experiments/config';
import { createTRPCRouter, editorProcedure, signedInProcedure } from '~/server/trpc';
import {
  actOnExperiment,
  createExperiment,
  experimentHistory,
  getExperiment,
  listExperiments,
  listFeatureSettings,
  setDefaultVersion,
  setHoldout,
  updateExperiment,
} from './experiments-service';
import { experimentResults } from './results-service';

const byId = z.object({ id: z.string().uuid() });

/** Viewers read; editors and admins change. */
export const experimentsRouter = createTRPCRouter({
  list: signedInProcedure
    .input(
      z
        .object({
          featureId: z.string().max(80).optional(),
          status: z.enum(EXPERIMENT_STATUSES).optional(),
        })
        .optional(),
    )
    .query(({ ctx, input }) => listExperiments(ctx.db, input ?? {})),
  get: signedInProcedure.input(byId).query(({ ctx, input }) => getExperiment(ctx.db, input.id)),
  history: signedInProcedure
    .input(byId)
    .query(({ ctx, input }) => experimentHistory(ctx.db, input.id)),
  results: signedInProcedure
    .input(byId)
    .query(({ ctx, input }) => experimentResults(ctx.db, input.id)),
  /** Every feature's default model version and holdout. */
  features: signedInProcedure.query(({ ctx }) => listFeatureSettings(ctx.db)),
  create: editorProcedure
    .input(createExperimentInput)
    .mutation(({ ctx, input }) =>
      createExperiment(ctx.db, { type: 'user', userId: ctx.user.id }, input),
    ),
  update: editorProcedure
    .input(updateExperimentInput)
    .mutation(({ ctx, input }) =>
      updateExperiment(ctx.db, { type: 'user', userId: ctx.user.id }, input),
    ),
  act: editorProcedure
    .input(experimentActionInput)
    .mutation(({ ctx, input }) =>
      actOnExperiment(ctx.db, { type: 'user', userId: ctx.user.id }, input),
    ),
  setHoldout: editorProcedure
    .input(holdoutInput)
    .mutation(({ ctx, input }) => setHoldout(ctx.db, { type: 'user', userId: ctx.user.id }, input)),
  setDefaultVersion: editorProcedure
    .input(defaultVersionInput)
    .mutation(({ ctx, input }) =>
      setDefaultVersion(ctx.db, { type: 'user', userId: ctx.user.id }, input),
    ),
});
