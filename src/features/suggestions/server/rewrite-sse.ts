/**
 * POST /api/suggestions/rewrite: a rewrite streamed as server-sent events.
 *   data: {"type":"delta","text":"…"}                                 (zero or more)
 *   data: {"type":"reset"}          (a tier failed mid-answer: drop the deltas so far)
 *   data: {"type":"done","generationId","tier","text","modelVersion"}  (always last)
 * `done.text` is the whole rewrite and wins over the deltas (a model that failed mid-way is
 * replaced by the next tier's answer). Backend trouble is never an error event: it ends as a
 * `done` from a fallback, at worst `tier: "none", text: ""`. Bad input is a 4xx JSON answer.
 */
import { DomainError, toPublicError } from '~/server/errors';
import { readJsonBody } from '~/server/http/read-json-body';
import { retryAfterOf } from '~/server/rate-limit';
import { rewriteSuggestion } from './suggestions-service';
import type { SuggestionRuntime } from './suggestions-runtime';
import { getFeature } from './feature-registry';
import { rewriteInput } from './suggestion-inputs';

function errorResponse(error: unknown): Response {
  const e = toPublicError(error);
  if (e.status >= 500) console.error('rewrite failed:', error);
  const retryAfter = retryAfterOf(error);
  return new Response(
    JSON.stringify({ error: { code: e.code, message: e.message, fieldErrors: e.fieldErrors } }),
    {
      status: e.status,
      headers: {
        'content-type': 'application/json',
        ...(retryAfter ? { 'retry-after': String(retryAfter) } : {}),
      },
    },
  );
}

/**
 * `admit` is the transport's access rule (sign-in, rate limits), run on the parsed input before
 * the stream starts, so a refusal is a plain 4xx answer.
 */
export async function handleRewriteRequest(
  req: Request,
  runtime: SuggestionRuntime,
  admit: (input: { unitId: string }) => Promise<void> = () => Promise.resolve(),
): Promise<Response> {
  let input;
  try {
    input = rewriteInput.parse(await readJsonBody(req));
    await admit(input);
    // 404 for an unknown feature, 400 for a completion feature, before the stream starts.
    const { task } = getFeature(input.featureId);
    if (task !== 'rewrite')
      throw new DomainError(
        'BAD_REQUEST',
        `Feature "${input.featureId}" is a ${task} feature; rewrite needs a rewrite feature`,
      );
  } catch (error) {
    return errorResponse(error);
  }
  // Aborted when the client goes away (request signal) or stops reading (cancel).
  const abort = new AbortController();
  req.signal.addEventListener('abort', () => abort.abort(), { once: true });
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (event: unknown) => {
        if (abort.signal.aborted) return;
        controller.enqueue(encoder.encode(`data: ${JSON.stringify(event)}\n\n`));
      };
      try {
        const { response } = await rewriteSuggestion(runtime, input, {
          signal: abort.signal,
          onDelta: (text) => send({ type: 'delta', text }),
          onReset: () => send({ type: 'reset' }),
        });
        send({
          type: 'done',
          generationId: response.generationId,
          tier: response.tier,
          text: response.text,
          modelVersion: response.modelVersion,
        });
      } catch (error) {
        // Input was validated above; anything here is ours: log it and degrade to silence.
        console.error('rewrite stream failed:', error);
        send({ type: 'done', generationId: null, tier: 'none', text: '', modelVersion: null });
      } finally {
        try {
          controller.close();
        } catch {
          // Already closed: the client cancelled the stream.
        }
      }
    },
    cancel() {
      abort.abort();
    },
  });
  return new Response(stream, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    },
  });
}
