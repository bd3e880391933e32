import { describe, expect, it } from 'vitest';
import { toSpan } from './otel-sink';
import type { GenerationForSink } from './sink';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const generation: GenerationForSink = {
  id: 'b0b5c7a2-8d56-4a7c-9a55-9f3c1e2d0a11',
  unitId: 'u1',
  featureId: 'inline-completion',
  tier: 'primary',
  backend: 'http://127.0.0.1:8001',
  provider: 'flywheel-worker',
  model: 'flywheel-teacher/1',
  modelVersion: 'flywheel-teacher/1',
  experimentId: null,
  arm: null,
  prompt: 'Thank you for',
  output: ' your note.',
  promptTokens: 4,
  completionTokens: 3,
  ttftMs: 12,
  latencyMs: 40,
  error: null,
  traceId,
  spanId: '00f067aa0ba902b7',
  parentSpanId: 'a3ce929d0e0e4736',
  createdAt: new Date('2026-12-04T12:00:00Z'),
};
const generationRow = {
  id: 1n,
  sink: 'otel',
  kind: 'generation' as const,
  attempts: 0,
  payload: {},
};
const feedbackRow = (g: GenerationForSink) => ({
  id: 2n,
  sink: 'otel',
  kind: 'feedback' as const,
  attempts: 0,
  aggregateId: 'e1',
  payload: {
    clientEventId: 'e1',
    generationId: g.id,
    unitId: 'u1',
    type: 'accepted',
    payload: {},
    clientTs: '2026-12-04T12:00:01Z',
    serverTs: '2026-12-04T12:00:01Z',
  },
});

describe('GenAI spans from the outbox', () => {
  it('take the backend call’s span id, under the app span that made the call', () => {
    const span = toSpan({ row: { ...generationRow, aggregateId: generation.id }, generation });
    expect(span.spanContext()).toMatchObject({ traceId, spanId: generation.spanId });
    expect(span.parentSpanContext).toMatchObject({ traceId, spanId: generation.parentSpanId });
    expect(span.attributes['gen_ai.provider.name']).toBe('flywheel-worker');
    expect(span.attributes).not.toHaveProperty('gen_ai.system');
    // Feedback hangs under the generation's span.
    const feedback = toSpan({ row: feedbackRow(generation), generation });
    expect(feedback.parentSpanContext).toMatchObject({ traceId, spanId: generation.spanId });
  });

  it('derive ids from the generation for rows recorded without span ids', () => {
    const old = { ...generation, traceId: null, spanId: null, parentSpanId: null };
    const span = toSpan({ row: { ...generationRow, aggregateId: old.id }, generation: old });
    expect(span.spanContext().spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(span.parentSpanContext).toBeUndefined();
    const feedback = toSpan({ row: feedbackRow(old), generation: old });
    expect(feedback.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
    expect(feedback.spanContext().traceId).toBe(span.spanContext().traceId);
  });
});
