import { createHash } from 'node:crypto';
import {
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Attributes,
  type HrTime,
  type SpanContext,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { FeedbackCopy } from '../outbox';
import type { DeliveryItem, GenerationForSink, OutboxSink } from './sink';

export interface OtelSinkOptions {
  /** Base OTLP/HTTP endpoint (as OTEL_EXPORTER_OTLP_ENDPOINT); traces go to `<endpoint>/v1/traces`. */
  endpoint: string;
  timeoutMs?: number;
}

const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'flywheel' });
const scope = { name: 'flywheel.outbox' };
const EXPORT_SUCCESS = 0; // ExportResultCode.SUCCESS of @opentelemetry/core

/**
 * Delivers outbox copies as OpenTelemetry spans (GenAI semantic conventions). The spans are
 * built from the stored rows rather than recorded live, with ids derived from the row ids, so a
 * re-sent copy is the same span, and feedback spans hang under their generation's span.
 */
export function createOtelSink(options: OtelSinkOptions): OutboxSink {
  const exporter = new OTLPTraceExporter({
    url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces`,
    timeoutMillis: options.timeoutMs ?? 10_000,
  });
  return {
    name: 'otel',
    async deliver(items) {
      if (items.length === 0) return;
      const spans = items.map(toSpan);
      await new Promise<void>((resolve, reject) => {
        exporter.export(spans, (result) => {
          if (Number(result.code) === EXPORT_SUCCESS) resolve();
          else reject(result.error ?? new Error('OTLP export failed'));
        });
      });
    },
    close: () => exporter.shutdown(),
  };
}

const hex = (input: string, chars: number) =>
  createHash('sha256').update(input).digest('hex').slice(0, chars);

/** The worker's W3C trace id when it sent one, else one derived from the generation id. */
export function traceIdOf(generationId: string, traceId: string | null | undefined): string {
  return traceId && /^[0-9a-f]{32}$/.test(traceId) ? traceId : hex(`trace/${generationId}`, 32);
}
const spanIdOf = (kind: string, id: string) => hex(`span/${kind}/${id}`, 16);
const isSpanId = (id: string | null | undefined): id is string => !!id && /^[0-9a-f]{16}$/.test(id);

/**
 * The generation's span: the id of the backend call's `traceparent` when it was recorded (so the
 * backend's spans are its children), else one derived from the generation id.
 */
function generationSpanIdOf(generationId: string, g: GenerationForSink | null): string {
  return isSpanId(g?.spanId) ? g.spanId : spanIdOf('generation', generationId);
}

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

function context(traceId: string, spanId: string): SpanContext {
  return { traceId, spanId, traceFlags: TraceFlags.SAMPLED };
}

function span(fields: {
  name: string;
  kind: SpanKind;
  context: SpanContext;
  parent?: SpanContext;
  startMs: number;
  endMs: number;
  attributes: Attributes;
  error?: string | null;
}): ReadableSpan {
  return {
    name: fields.name,
    kind: fields.kind,
    spanContext: () => fields.context,
    parentSpanContext: fields.parent,
    startTime: hrTime(fields.startMs),
    endTime: hrTime(fields.endMs),
    duration: hrTime(fields.endMs - fields.startMs),
    status: fields.error
      ? { code: SpanStatusCode.ERROR, message: fields.error }
      : { code: SpanStatusCode.UNSET },
    attributes: fields.attributes,
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

function dimensions(g: GenerationForSink | null): Attributes {
  const attributes: Attributes = {};
  if (!g) return attributes;
  attributes['flywheel.feature'] = g.featureId;
  attributes['flywheel.tier'] = g.tier;
  if (g.modelVersion) attributes['flywheel.model_version'] = g.modelVersion;
  if (g.experimentId) attributes['flywheel.experiment_id'] = g.experimentId;
  if (g.arm) attributes['flywheel.arm'] = g.arm;
  return attributes;
}

export function toSpan({ row, generation }: DeliveryItem): ReadableSpan {
  if (row.kind === 'generation') {
    if (!generation) throw new Error(`generation ${row.aggregateId} is gone`);
    return generationSpan(generation);
  }
  const copy = row.payload as FeedbackCopy;
  const traceId = traceIdOf(copy.generationId, generation?.traceId);
  const at = Date.parse(copy.clientTs);
  const attributes: Attributes = {
    'gen_ai.response.id': copy.generationId,
    'gen_ai.evaluation.name': 'user_feedback',
    'gen_ai.evaluation.score.label': copy.type,
    'flywheel.feedback.client_event_id': copy.clientEventId,
    ...dimensions(generation),
  };
  for (const [key, value] of Object.entries(copy.payload)) {
    if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean')
      attributes[`flywheel.feedback.${key}`] = value;
  }
  return span({
    name: `suggestion ${copy.type}`,
    kind: SpanKind.INTERNAL,
    context: context(traceId, spanIdOf('feedback', copy.clientEventId)),
    parent: context(traceId, generationSpanIdOf(copy.generationId, generation)),
    startMs: at,
    endMs: at,
    attributes,
  });
}

function generationSpan(g: GenerationForSink): ReadableSpan {
  const model = g.model ?? g.tier;
  const attributes: Attributes = {
    'gen_ai.operation.name': 'text_completion',
    'gen_ai.provider.name': g.provider,
    'gen_ai.request.model': model,
    'gen_ai.response.model': model,
    'gen_ai.response.id': g.id,
    ...dimensions(g),
  };
  if (g.promptTokens !== null) attributes['gen_ai.usage.input_tokens'] = g.promptTokens;
  if (g.completionTokens !== null) attributes['gen_ai.usage.output_tokens'] = g.completionTokens;
  if (g.ttftMs !== null) attributes['flywheel.ttft_ms'] = g.ttftMs;
  if (g.error) attributes['error.type'] = 'generation_error';
  const end = g.createdAt.getTime();
  const traceId = traceIdOf(g.id, g.traceId);
  return span({
    name: `text_completion ${model}`,
    kind: SpanKind.CLIENT,
    context: context(traceId, generationSpanIdOf(g.id, g)),
    // Under the app's span that made the call, when it was in the same (recorded) trace.
    parent:
      isSpanId(g.parentSpanId) && traceId === g.traceId
        ? context(traceId, g.parentSpanId)
        : undefined,
    startMs: end - g.latencyMs,
    endMs: end,
    attributes,
    error: g.error,
  });
}
