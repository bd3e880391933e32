import { PostHog, type PostHogOptions } from 'posthog-node';
import type { FeedbackType } from '../../events';
import { outboxEventUuid, type FeedbackCopy } from '../outbox';
import { dimensionsOf, type DeliveryItem, type GenerationForSink, type OutboxSink } from './sink';

/** PostHog event names of the outcomes (product-analytics style: "object verb"). */
export const POSTHOG_EVENT_NAMES: Record<FeedbackType, string> = {
  shown: 'suggestion shown',
  accepted: 'suggestion accepted',
  accepted_partial: 'suggestion partially accepted',
  dismissed: 'suggestion dismissed',
  ignored: 'suggestion ignored',
  typed_through: 'suggestion typed through',
  retention: 'suggestion retention measured',
};

export interface PostHogSinkOptions {
  apiKey: string;
  host: string;
  /** Per HTTP request; the dispatcher retries on its own schedule. */
  requestTimeoutMs?: number;
}

type Fetch = NonNullable<PostHogOptions['fetch']>;

/**
 * Delivers outbox copies through posthog-node. A fresh client per batch, because posthog-node
 * keeps undelivered events queued after a network error and would send them again with its next
 * flush, on top of the outbox's own retry: the outbox is the only queue here.
 */
export function createPostHogSink(options: PostHogSinkOptions): OutboxSink {
  return {
    name: 'posthog',
    async deliver(items) {
      if (items.length === 0) return;
      // posthog-node 5 rejects flush() on HTTP and network errors, but it swallows errors on
      // other paths (captureImmediate only emits them), so the status of every request is
      // checked here as well: delivered means every request it made answered 2xx.
      const statuses: number[] = [];
      const fetchWithStatus: Fetch = async (url, init) => {
        try {
          const res = await fetch(url, init);
          statuses.push(res.status);
          return res;
        } catch (error) {
          statuses.push(0);
          throw error;
        }
      };
      const client = new PostHog(options.apiKey, {
        host: options.host,
        // Everything goes in one request, sent when flush() is awaited, never on a timer.
        flushAt: items.length + 1,
        maxBatchSize: items.length + 1,
        maxQueueSize: items.length + 1,
        flushInterval: 0,
        fetchRetryCount: 0,
        requestTimeout: options.requestTimeoutMs ?? 10_000,
        disableGeoip: true,
        fetch: fetchWithStatus,
      });
      for (const item of items) client.capture(toPostHogEvent(item));
      await client.flush();
      const failed = statuses.filter((s) => s < 200 || s >= 300);
      if (statuses.length === 0 || failed.length > 0) {
        throw new Error(
          `PostHog did not accept the batch (HTTP ${failed.join(', ') || 'no request made'})`,
        );
      }
    },
  };
}

export function toPostHogEvent({ row, generation }: DeliveryItem) {
  const uuid = outboxEventUuid(row);
  if (row.kind === 'generation') {
    if (!generation) throw new Error(`generation ${row.aggregateId} is gone`);
    return {
      uuid,
      distinctId: generation.unitId,
      event: '$ai_generation',
      timestamp: generation.createdAt,
      properties: generationProperties(generation),
    };
  }
  const copy = row.payload as FeedbackCopy;
  return {
    uuid,
    distinctId: copy.unitId,
    event: POSTHOG_EVENT_NAMES[copy.type as FeedbackType] ?? `suggestion ${copy.type}`,
    timestamp: new Date(copy.clientTs),
    properties: {
      $ai_trace_id: generation?.traceId ?? copy.generationId,
      generation_id: copy.generationId,
      feedback_type: copy.type,
      client_event_id: copy.clientEventId,
      server_ts: copy.serverTs,
      ...dimensionsOf(generation),
      ...snakeCaseKeys(copy.payload),
    },
  };
}

/** PostHog LLM-analytics properties of a `$ai_generation` event, plus our dimensions. */
export function generationProperties(g: GenerationForSink) {
  return {
    $ai_trace_id: g.traceId ?? g.id,
    $ai_span_id: g.id,
    $ai_model: g.model ?? g.tier,
    $ai_provider: g.provider,
    $ai_input: [{ role: 'user', content: g.prompt }],
    $ai_output_choices: [{ role: 'assistant', content: g.output }],
    $ai_input_tokens: g.promptTokens ?? undefined,
    $ai_output_tokens: g.completionTokens ?? undefined,
    $ai_latency: g.latencyMs / 1000,
    $ai_time_to_first_token: g.ttftMs === null ? undefined : g.ttftMs / 1000,
    $ai_is_error: g.error !== null,
    $ai_error: g.error ?? undefined,
    generation_id: g.id,
    ...dimensionsOf(g),
  };
}

function snakeCaseKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );
}
