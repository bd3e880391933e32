import type { CompletionResult, RequestCompletion } from './inline-completion';
import { pageSuggestionSocket } from './suggestion-socket';

/** The editor's suggestion endpoint (suggestions-api.ts): suggestions.complete as plain JSON. */
export const COMPLETE_PATH = '/api/v1/suggestions/complete';

/**
 * Asks for one inline suggestion over the page's suggestion socket when it is open, otherwise
 * with a plain fetch: either way the hot path skips tRPC's link chain and superjson on both ends.
 * A refusal (4xx, the public API's error envelope) rejects like a network failure: the editor
 * shows no suggestion either way.
 */
export function completionRequester(featureId: string, unitId: string): RequestCompletion {
  const socket = pageSuggestionSocket();
  socket.connect(); // open before the first keystroke's request
  return ({ textBefore, textAfter }, signal) => {
    const input = { featureId, unitId, textBefore, textAfter };
    const byFetch = () => fetchCompletion(input, signal);
    return socket.send(input, signal, byFetch) ?? byFetch();
  };
}

async function fetchCompletion(input: object, signal: AbortSignal): Promise<CompletionResult> {
  const response = await fetch(COMPLETE_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
    signal,
  });
  if (!response.ok) throw new Error(`No suggestion: HTTP ${response.status}`);
  return (await response.json()) as CompletionResult;
}
