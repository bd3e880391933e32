import type { CompletionResult, RequestCompletion } from './inline-completion';

/** The editor's suggestion endpoint (suggestions-api.ts): suggestions.complete as plain JSON. */
export const COMPLETE_PATH = '/api/v1/suggestions/complete';

/**
 * Asks for one inline suggestion with a plain fetch: the hot path skips tRPC's link chain and
 * superjson on both ends. A refusal (4xx, the public API's error envelope) rejects like a
 * network failure: the editor shows no suggestion either way.
 */
export function completionRequester(featureId: string, unitId: string): RequestCompletion {
  return async ({ textBefore, textAfter }, signal) => {
    const response = await fetch(COMPLETE_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ featureId, unitId, textBefore, textAfter }),
      signal,
    });
    if (!response.ok) throw new Error(`No suggestion: HTTP ${response.status}`);
    return (await response.json()) as CompletionResult;
  };
}
