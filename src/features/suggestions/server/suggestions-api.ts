/**
 * The suggestion routes of the HTTP API for end users in a browser, mounted by the public app
 * under /api/v1/suggestions, so they answer errors with its one envelope and status mapping.
 *
 * POST /api/v1/suggestions/rewrite: a rewrite streamed as server-sent events (Hono's streamSSE).
 *   data: {"type":"delta","text":"…"}                                 (zero or more)
 *   data: {"type":"reset"}          (a tier failed mid-answer: drop the deltas so far)
 *   data: {"type":"done","generationId","tier","text","modelVersion"}  (always last)
 * `done.text` is the whole rewrite and wins over the deltas. Backend trouble is never an error
 * event: it ends as a `done` from a fallback, at worst `tier: "none", text: ""`. Refusals (sign-in,
 * rate limits, bad input, an unknown or non-rewrite feature) come before the stream, as the
 * public API's `{ error: { code, message, fieldErrors? } }` with a 4xx status.
 */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Db } from '~/server/db';
import { readJsonBody } from '~/server/http/read-json-body';
import { admitEndUser, clientAddress, unitIdOf } from '~/server/rate-limit';
import type { RewriteEvent } from '../rewrite-events';
import { rewriteInput } from './suggestion-inputs';
import { featureFor, rewriteSuggestion } from './suggestions-service';
import { suggestionRuntime, type SuggestionRuntime } from './suggestions-runtime';

export interface SuggestionsApiDeps {
  getDb: () => Db;
  /** The signed-in user of a browser request (its session cookie), if any. */
  getUser: (headers: Headers) => Promise<{ id: string } | null>;
  /** The process's suggestion runtime by default (tests pass one with their own backends). */
  runtime?: (db: Db) => SuggestionRuntime;
  /** Overrides ALLOW_ANONYMOUS_WRITE (tests). */
  allowAnonymousWrite?: boolean;
}

export function suggestionsApi({
  getDb,
  getUser,
  runtime = suggestionRuntime,
  allowAnonymousWrite,
}: SuggestionsApiDeps) {
  const app = new Hono();

  app.post('/rewrite', async (c) => {
    const req = c.req.raw;
    const body = await readJsonBody(req);
    // The end-user rule of tRPC's endUserProcedure: counted before the input is validated.
    await admitEndUser({
      getUser: () => getUser(req.headers),
      clientAddress: clientAddress(req.headers),
      unitId: unitIdOf(body),
      allowAnonymousWrite,
    });
    const input = rewriteInput.parse(body);
    // 404 for an unknown feature, 400 for a completion feature: before the stream starts.
    featureFor(input.featureId, 'rewrite');
    const rt = runtime(getDb());
    c.header('x-accel-buffering', 'no'); // proxies must not hold the stream back
    return streamSSE(c, async (stream) => {
      // Aborted when the client goes away (the request's signal) or stops reading.
      const abort = new AbortController();
      const stop = () => abort.abort();
      req.signal.addEventListener('abort', stop, { once: true });
      stream.onAbort(stop);
      // Writes are queued in order; the gateway's callbacks do not wait for the client.
      let writes = Promise.resolve();
      const send = (event: RewriteEvent) => {
        if (abort.signal.aborted) return;
        writes = writes.then(() => stream.writeSSE({ data: JSON.stringify(event) })).catch(stop);
      };
      try {
        const { response } = await rewriteSuggestion(rt, input, {
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
        // Input was checked above; anything here is ours: log it and degrade to silence.
        console.error('rewrite stream failed:', error);
        send({ type: 'done', generationId: null, tier: 'none', text: '', modelVersion: null });
      } finally {
        await writes;
        req.signal.removeEventListener('abort', stop);
      }
    });
  });

  return app;
}
