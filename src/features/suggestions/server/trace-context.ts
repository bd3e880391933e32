/**
 * W3C trace context for a backend call: a child of the active OpenTelemetry span when there is
 * one (so the worker's spans join the app's trace), else a fresh trace. The trace id is stored on
 * the Generation so a row leads to its trace.
 */
import { randomBytes } from 'node:crypto';
import { trace, isSpanContextValid } from '@opentelemetry/api';

export interface TraceContext {
  traceId: string;
  spanId: string;
  /** The app span the backend call runs under (null for a fresh trace). */
  parentSpanId: string | null;
  traceparent: string;
}

export function newTraceContext(): TraceContext {
  const active = trace.getActiveSpan()?.spanContext();
  const parent = active && isSpanContextValid(active) ? active : null;
  const random = randomBytes(24).toString('hex'); // one call for both ids
  const traceId = parent?.traceId ?? random.slice(0, 32);
  const spanId = random.slice(32);
  // Sampled unless the active span says otherwise.
  const flags = parent ? (parent.traceFlags & 1 ? '01' : '00') : '01';
  return {
    traceId,
    spanId,
    parentSpanId: parent?.spanId ?? null,
    traceparent: `00-${traceId}-${spanId}-${flags}`,
  };
}
