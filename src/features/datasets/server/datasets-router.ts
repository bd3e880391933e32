import { z } from 'zod';
import { createTRPCRouter, editorProcedure, signedInProcedure } from '~/server/trpc';
import { datasetDefinitionSchema, datasetNameSchema, SPLITS } from '../definition';
import {
  getBuild,
  getDataset,
  listDatasets,
  listFeaturesForDatasets,
  previewVersion,
} from './datasets-queries';
import { createDataset, requestBuild } from './datasets-service';

const actorOf = (user: { id: string }) => ({ type: 'user' as const, userId: user.id });
const ref = z.string().trim().min(1).max(100);

export const datasetsRouter = createTRPCRouter({
  features: signedInProcedure.query(({ ctx }) => listFeaturesForDatasets(ctx.db)),
  list: signedInProcedure.query(({ ctx }) => listDatasets(ctx.db)),
  get: signedInProcedure
    .input(z.object({ dataset: ref }))
    .query(({ ctx, input }) => getDataset(ctx.db, input.dataset)),
  build: signedInProcedure
    .input(z.object({ buildId: z.uuid() }))
    .query(({ ctx, input }) => getBuild(ctx.db, input.buildId)),
  create: editorProcedure
    .input(
      z.object({
        name: datasetNameSchema,
        description: z.string().max(500).optional(),
        definition: datasetDefinitionSchema,
      }),
    )
    .mutation(({ ctx, input }) => createDataset(ctx.db, actorOf(ctx.user), input)),
  requestBuild: editorProcedure
    .input(z.object({ dataset: ref, watermark: z.iso.datetime({ offset: true }).optional() }))
    .mutation(({ ctx, input }) => requestBuild(ctx.db, actorOf(ctx.user), input)),
  preview: signedInProcedure
    .input(
      z.object({
        versionId: z.uuid(),
        split: z.enum(SPLITS).default('train'),
        limit: z.number().int().min(1).max(50).default(10),
      }),
    )
    .query(({ ctx, input }) => previewVersion(ctx.db, input)),
});
