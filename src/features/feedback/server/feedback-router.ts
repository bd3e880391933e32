import { createTRPCRouter, publicProcedure } from '~/server/trpc';
import { ingestInputSchema } from '../events';
import { ingestFeedback } from './ingest-service';

export const feedbackRouter = createTRPCRouter({
  // Public: end users are anonymous. Also reachable by navigator.sendBeacon, which POSTs
  // `{"json": <input>}` to /api/trpc/feedback.ingest (superjson reads a body without `meta`).
  ingest: publicProcedure
    .input(ingestInputSchema)
    .mutation(({ ctx, input }) => ingestFeedback(ctx.db, input)),
});
