import { createTRPCRouter, endUserProcedure } from '~/server/trpc';
import { completeInput, completeOutput } from './suggestion-inputs';
import { completeSuggestion } from './suggestions-service';
import { suggestionRuntime } from './suggestions-runtime';

export const suggestionsRouter = createTRPCRouter({
  /**
   * One inline suggestion for an end user (unitId is theirs; see endUserProcedure).
   * `signal` is the HTTP request's: a newer keystroke aborts this one down to the worker.
   */
  complete: endUserProcedure
    .input(completeInput)
    .output(completeOutput)
    .mutation(async ({ ctx, input, signal }) => {
      const { response } = await completeSuggestion(suggestionRuntime(ctx.db), input, signal);
      return response;
    }),
});
