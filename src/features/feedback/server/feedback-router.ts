import { createTRPCRouter, endUserProcedure } from '~/server/trpc';
import { ingestInputSchema } from '../events';
import { ingestFeedback } from './ingest-service';

export const feedbackRouter = createTRPCRouter({
  // End users (anonymous where ALLOW_ANONYMOUS_WRITE allows). Also reachable by navigator.sendBeacon, which POSTs
  // `{"json": <input>}` to /api/trpc/feedback.ingest (superjson reads a body without `meta`).
  ingest: endUserProcedure
    .input(ingestInputSchema)
    .mutation(({ ctx, input }) => ingestFeedback(ctx.db, input)),
});
