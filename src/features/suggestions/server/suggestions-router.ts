import { createTRPCRouter, publicProcedure } from '~/server/trpc';
import { completeInput, completeOutput } from './suggestion-inputs';
import { completeSuggestion } from './suggestions-service';
import { suggestionRuntime } from './suggestions-runtime';

export const suggestionsRouter = createTRPCRouter({
  /**
   * One inline suggestion. Public: the end users of a product are anonymous (unitId is theirs).
   * `signal` is the HTTP request's: a newer keystroke aborts this one down to the worker.
   */
  complete: publicProcedure
    .input(completeInput)
    .output(completeOutput)
    .mutation(async ({ ctx, input, signal }) => {
      const { response } = await completeSuggestion(suggestionRuntime(ctx.db), input, signal);
      return response;
    }),
});
