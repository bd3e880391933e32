import { z } from 'zod';
import { createTRPCRouter, editorProcedure, roleProcedure } from '~/server/trpc';
import { evalRequestSchema } from '../config';
import { evalOptions } from './eval-options';
import { getEvalRun, listEvalRuns, offlineVsOnline } from './evals-queries';
import { createEvalRun, retryEvalRun } from './evals-service';

const actorOf = (user: { id: string }) => ({ type: 'user' as const, userId: user.id });

export const evalsRouter = createTRPCRouter({
  list: roleProcedure('viewer')
    .input(
      z
        .object({
          modelVersionId: z.string().max(64).optional(),
          limit: z.number().int().min(1).max(200).default(50),
        })
        .default({ limit: 50 }),
    )
    .query(({ ctx, input }) => listEvalRuns(ctx.db, input)),
  get: roleProcedure('viewer')
    .input(z.object({ id: z.uuid('Eval run ids are UUIDs') }))
    .query(({ ctx, input }) => getEvalRun(ctx.db, input.id)),
  options: roleProcedure('viewer').query(({ ctx }) => evalOptions(ctx.db)),
  comparison: roleProcedure('viewer').query(({ ctx }) => offlineVsOnline(ctx.db)),
  create: editorProcedure.input(evalRequestSchema).mutation(async ({ ctx, input }) => {
    const run = await createEvalRun(ctx.db, actorOf(ctx.user), input);
    return getEvalRun(ctx.db, run.id);
  }),
  retry: editorProcedure
    .input(z.object({ id: z.uuid('Eval run ids are UUIDs') }))
    .mutation(async ({ ctx, input }) => {
      const run = await retryEvalRun(ctx.db, actorOf(ctx.user), input.id);
      return getEvalRun(ctx.db, run.id);
    }),
});
