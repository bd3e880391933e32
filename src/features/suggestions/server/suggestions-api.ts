/**
 * The suggestion routes of the HTTP API for end users in a browser, mounted by the public app
 * under /api/v1/suggestions, so they answer errors with its one envelope and status mapping.
 *
 * POST /api/v1/suggestions/complete: one inline suggestion, the input and answer of tRPC's
 *   suggestions.complete as plain JSON. The editor's hot path: no tRPC envelope or superjson, and
 *   `npm start` answers it before Next.js's router (see composition/before-next.ts).
 *   The same call over a WebSocket: suggestions-socket.ts (through endUserCompleter below).
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
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import type { Db } from '~/server/db';
import { readJsonBody } from '~/server/http/read-json-body';
import { admitEndUser, clientAddress, unitIdOf } from '~/server/rate-limit';
import type { RewriteEvent } from '../rewrite-events';
import { DomainError } from '~/server/errors';
import { rewriteInput, type CompleteInput } from './suggestion-inputs';
import { completeSuggestion, featureFor, rewriteSuggestion } from './suggestions-service';
import { suggestionRuntime, type SuggestionRuntime } from './suggestions-runtime';

const MAX_BODY_BYTES = 256 * 1024;

export interface SuggestionsApiDeps {
  getDb: () => Db;
  /** The signed-in user of a browser request (its session cookie), if any. */
  getUser: (headers: Headers) => Promise<{ id: string } | null>;
  /** The process's suggestion runtime by default (tests pass one with their own backends). */
  runtime?: (db: Db) => SuggestionRuntime;
  /** Overrides ALLOW_ANONYMOUS_WRITE (tests). */
  allowAnonymousWrite?: boolean;
}

/**
 * One inline suggestion for an end user: the admission of tRPC's endUserProcedure (anonymous
 * rule, session cookie, the rate limits per address, unit and user), then the service. The one
 * path of POST /complete and of the suggestion socket.
 */
export function endUserCompleter({
  getDb,
  getUser,
  runtime = suggestionRuntime,
  allowAnonymousWrite,
}: SuggestionsApiDeps) {
  const admit = (headers: Headers, body: unknown) =>
    // Counted before the input is validated, as on tRPC.
    admitEndUser({
      getUser: () => getUser(headers),
      clientAddress: clientAddress(headers),
      unitId: unitIdOf(body),
      allowAnonymousWrite,
    });
  const complete = async (call: { headers: Headers; body: unknown; signal?: AbortSignal }) => {
    await admit(call.headers, call.body);
    const rt = runtime(getDb());
    return (await completeSuggestion(rt, call.body as CompleteInput, call.signal)).response;
  };
  return { admit, complete };
}

export function suggestionsApi(deps: SuggestionsApiDeps) {
  const { getDb, runtime = suggestionRuntime } = deps;
  const completer = endUserCompleter(deps);
  const app = new Hono();
  // The inputs' own limits (10,000 characters of text) with room for JSON escapes.
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new DomainError('PAYLOAD_TOO_LARGE', `Send at most ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );

  /** The body, once the caller passes the end-user rule of tRPC's endUserProcedure. */
  const admittedBody = async (req: Request) => {
    const body = await readJsonBody(req);
    await completer.admit(req.headers, body);
    return body;
  };

  app.post('/complete', async (c) => {
    const req = c.req.raw;
    const body = await readJsonBody(req);
    // The request's signal: a newer keystroke closes this request, which aborts the worker's.
    return c.json(await completer.complete({ headers: req.headers, body, signal: req.signal }));
  });

  app.post('/rewrite', async (c) => {
    const req = c.req.raw;
    const input = rewriteInput.parse(await admittedBody(req));
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
