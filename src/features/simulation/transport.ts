/**
 * How simulated writers reach the app: the browser's own path, tRPC over HTTP with superjson
 * (`suggestions.complete` with the unit id and feature, `feedback.ingest` with the event batch),
 * through @trpc/client's plain `httpLink`, as src/trpc/client.tsx does. Untyped on purpose: a
 * feature does not import the root router; the inputs are the shared wire schemas.
 */
import { createTRPCUntypedClient, httpLink, TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import type { FeedbackEventInput, IngestResult } from '~/features/feedback/events';

export interface SuggestionAnswer {
  generationId: string | null;
  recorded: boolean;
  text: string;
  tier: 'primary' | 'fallback_model' | 'ngram' | 'none';
  modelVersion: string | null;
  latencyMs: number;
}

export interface WriterTransport {
  complete(
    input: { featureId: string; unitId: string; textBefore: string; textAfter: string },
    signal: AbortSignal,
  ): Promise<SuggestionAnswer>;
  ingest(
    batch: { unitId: string; events: FeedbackEventInput[] },
    signal?: AbortSignal,
  ): Promise<IngestResult>;
}

/** The HTTP status of a failed call (tRPC client errors carry it in `data.httpStatus`). */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof TRPCClientError) {
    const status = (error.data as { httpStatus?: unknown } | undefined)?.httpStatus;
    if (typeof status === 'number') return status;
  }
  return undefined;
}

export function httpTransport(options: {
  /** The app's origin, e.g. http://127.0.0.1:3000. */
  baseUrl: string;
  /** A session cookie when the app does not allow anonymous writing. */
  headers?: Record<string, string>;
  /** Another fetch (tests route it to the app's request handler in-process). */
  fetch?: typeof fetch;
}): WriterTransport {
  const client = createTRPCUntypedClient({
    links: [
      httpLink({
        url: `${options.baseUrl.replace(/\/$/, '')}/api/trpc`,
        transformer: superjson,
        headers: () => options.headers ?? {},
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    ],
  });
  return {
    complete: (input, signal) =>
      client.mutation('suggestions.complete', input, { signal }) as Promise<SuggestionAnswer>,
    ingest: (batch, signal) =>
      client.mutation('feedback.ingest', batch, { signal }) as Promise<IngestResult>,
  };
}
