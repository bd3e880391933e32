import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeOnEachDatabase } from '~/test/databases';
import { ingestInputSchema, type FeedbackEventInput } from '../events';
import { ingestFeedback } from './ingest-service';
import { makeGeneration } from './testing/fixtures';

describeOnEachDatabase('users\u2019 text in feedback', ({ db }) => {
  const event = (generationId: string, type: 'retention' | 'dismissed', text: string) =>
    (type === 'retention'
      ? {
          type,
          generationId,
          clientEventId: randomUUID(),
          clientTs: Date.now(),
          payload: { window: '2m', editDistance: 0.2, retainedChars: 8, acceptedChars: 10, text },
        }
      : {
          type,
          generationId,
          clientEventId: randomUUID(),
          clientTs: Date.now(),
          payload: { shownToDecisionMs: 900, typedText: text },
        }) satisfies FeedbackEventInput;

  it('stores it redacted where the feature allows training data, drops it elsewhere, never copies it', async () => {
    const unitId = `unit-${randomUUID()}`;
    await db().feature.upsert({
      where: { id: 'inline-completion' },
      create: { id: 'inline-completion', task: 'completion', config: {}, configHash: 'test' },
      update: {},
    });
    const allowed = await makeGeneration(db(), unitId);
    await db().generation.update({
      where: { id: allowed.id },
      data: { featureId: 'inline-completion' },
    });
    const other = await makeGeneration(db(), unitId); // a feature with trainingData off
    const events = [
      event(allowed.id, 'retention', 'write to jane@example.com today'),
      event(allowed.id, 'dismissed', 'call 555 010 9999'),
      event(other.id, 'retention', 'kept text'),
    ];
    const input = ingestInputSchema.parse({ unitId, events });
    expect(await ingestFeedback(db(), input, { sinks: ['posthog'] })).toMatchObject({
      accepted: 3,
    });
    const stored = await db().feedbackEvent.findMany({
      where: { clientEventId: { in: events.map((e) => e.clientEventId) } },
    });
    const payloadOf = (id: string) =>
      stored.find((s) => s.clientEventId === id)?.payload as Record<string, unknown>;
    expect(payloadOf(events[0]!.clientEventId).text).toBe('write to [email] today');
    expect(payloadOf(events[1]!.clientEventId).typedText).toBe('call [number]');
    expect(payloadOf(events[2]!.clientEventId)).not.toHaveProperty('text');
    const copies = await db().outbox.findMany({
      where: { aggregateId: { in: events.map((e) => e.clientEventId) } },
    });
    expect(copies).toHaveLength(3);
    expect(JSON.stringify(copies.map((c) => c.payload))).not.toMatch(/email|number|kept text/);
  });

  it('refuses text longer than the limit', () => {
    const long = event('g', 'retention', 'x'.repeat(2_001));
    expect(ingestInputSchema.safeParse({ unitId: 'u', events: [long] }).success).toBe(false);
  });
});
