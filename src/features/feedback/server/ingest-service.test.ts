import { randomUUID } from 'node:crypto';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { expect, it } from 'vitest';
import { createApiKey } from '~/features/settings/server/api-key-service';
import { toPublicError } from '~/server/errors';
import { createPublicApi } from '~/composition/public-api';
import { appRouter, createCaller } from '~/composition/root';
import { contextFor } from '~/server/trpc';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { ingestInputSchema, type IngestInputWire } from '../events';
import { ingestFeedback, MAX_CLOCK_SKEW_MS } from './ingest-service';
import { lifecycleEvents, makeGeneration } from './testing/fixtures';

describeOnEachDatabase('feedback ingest', ({ db }) => {
  const caller = () => createCaller(contextFor(db(), null));
  const ingest = (input: IngestInputWire) => caller().feedback.ingest(input);

  const ingestWithSinks = (input: IngestInputWire) =>
    ingestFeedback(db(), ingestInputSchema.parse(input), { sinks: ['posthog', 'otel'] });

  it('stores a batch sent three times concurrently once, with its outbox copies', async () => {
    const unitId = `unit-${randomUUID()}`;
    const generation = await makeGeneration(db(), unitId);
    const events = lifecycleEvents(generation.id);
    const results = await Promise.all([1, 2, 3].map(() => ingestWithSinks({ unitId, events })));

    expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(events.length);
    expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(2 * events.length);
    expect(results.every((r) => r.rejected.length === 0)).toBe(true);
    const ids = events.map((e) => e.clientEventId);
    expect(await db().feedbackEvent.count({ where: { clientEventId: { in: ids } } })).toBe(3);
    const copies = await db().outbox.findMany({ where: { aggregateId: { in: ids } } });
    // One row per configured sink and event (the generation's copies come with the generation).
    expect(copies).toHaveLength(6);
    expect(copies.filter((c) => c.sink === 'posthog')).toHaveLength(3);

    // A retry much later is all duplicates.
    expect(await ingestWithSinks({ unitId, events })).toEqual({
      accepted: 0,
      duplicates: 3,
      rejected: [],
    });
  });

  it('makes no outbox rows for sinks that are not configured', async () => {
    const unitId = `unit-${randomUUID()}`;
    const generation = await makeGeneration(db(), unitId);
    const events = lifecycleEvents(generation.id);
    expect(await ingest({ unitId, events })).toMatchObject({ accepted: 3 });
    const ids = events.map((e) => e.clientEventId);
    expect(await db().outbox.count({ where: { aggregateId: { in: ids } } })).toBe(0);
  });

  it('never deadlocks on overlapping batches sent concurrently in different orders', async () => {
    const unitId = `unit-${randomUUID()}`;
    const generations = await Promise.all(
      Array.from({ length: 8 }, () => makeGeneration(db(), unitId)),
    );
    const events = generations.flatMap((g) =>
      Array.from({ length: 5 }, () => lifecycleEvents(g.id)).flat(),
    ); // 120 events
    const orders = [
      events,
      [...events].reverse(),
      events.filter((_, i) => i % 2 === 0).concat(events.filter((_, i) => i % 2 === 1)),
      [...events].sort((a, b) => (a.clientEventId < b.clientEventId ? 1 : -1)),
    ];
    const batches = Array.from({ length: 16 }, (_, i) => orders[i % orders.length]!);
    const results = await Promise.all(
      batches.map((batch) => ingestWithSinks({ unitId, events: batch })),
    );
    expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(events.length);
    expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(15 * events.length);
    const ids = events.map((e) => e.clientEventId);
    expect(await db().feedbackEvent.count({ where: { clientEventId: { in: ids } } })).toBe(120);
    expect(await db().outbox.count({ where: { aggregateId: { in: ids } } })).toBe(240);
    console.log(
      `overlapping ingest: ${batches.length} batches × ${events.length} events in 4 orders → ` +
        `${events.length} stored once, ${2 * events.length} copies, no deadlock`,
    );
  });

  it('counts an id repeated within a batch as a duplicate', async () => {
    const unitId = `unit-${randomUUID()}`;
    const generation = await makeGeneration(db(), unitId);
    const [shown] = lifecycleEvents(generation.id);
    expect(await ingest({ unitId, events: [shown!, shown!] })).toEqual({
      accepted: 1,
      duplicates: 1,
      rejected: [],
    });
  });

  it('rejects events of unknown or foreign generations and stores the rest', async () => {
    const unitId = `unit-${randomUUID()}`;
    const mine = await makeGeneration(db(), unitId);
    const theirs = await makeGeneration(db(), `other-${randomUUID()}`);
    const [ok] = lifecycleEvents(mine.id);
    const [foreign] = lifecycleEvents(theirs.id);
    const [missing] = lifecycleEvents('no-such-generation');
    const result = await ingest({ unitId, events: [ok!, foreign!, missing!] });
    expect(result.accepted).toBe(1);
    expect(result.rejected).toEqual(
      expect.arrayContaining([
        { clientEventId: foreign!.clientEventId, reason: 'generation_of_other_unit' },
        { clientEventId: missing!.clientEventId, reason: 'generation_not_found' },
      ]),
    );
    const stored = await db().feedbackEvent.findMany({
      where: { clientEventId: { in: [foreign!.clientEventId, missing!.clientEventId] } },
    });
    expect(stored).toEqual([]);

    // Nothing acceptable: still an answer, listing every event with why, so the client drops them.
    const none = await ingest({ unitId, events: [foreign!, missing!] });
    expect(none.accepted).toBe(0);
    expect(none.rejected.map((r) => r.reason).sort()).toEqual([
      'generation_not_found',
      'generation_of_other_unit',
    ]);
  });

  it('refuses malformed batches with field errors', async () => {
    const unitId = `unit-${randomUUID()}`;
    const generation = await makeGeneration(db(), unitId);
    const [shown] = lifecycleEvents(generation.id);
    const bad = (input: unknown) => ingest(input as IngestInputWire);
    await expect(bad({ unitId, events: [{ ...shown, type: 'clicked' }] })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    const missingField = await bad({
      unitId,
      events: [{ ...shown, payload: { gateMs: 750 } }],
    }).catch((error: unknown) => toPublicError(error));
    expect(missingField).toMatchObject({
      status: 400,
      fieldErrors: { 'events.0.payload.responseToShownMs': expect.any(Array) },
    });
    await expect(bad({ unitId, events: [{ ...shown, clientEventId: 'x' }] })).rejects.toMatchObject(
      { code: 'BAD_REQUEST' },
    );
    await expect(bad({ unitId, events: [] })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      bad({ unitId, events: Array.from({ length: 501 }, () => shown) }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('events') });
    await expect(bad({ unitId: 'nul\u0000', events: [shown] })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(bad({ unitId: 'u'.repeat(129), events: [shown] })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('clamps skewed client clocks and keeps what was sent', async () => {
    const unitId = `unit-${randomUUID()}`;
    const generation = await makeGeneration(db(), unitId);
    const future = Date.now() + 30 * 24 * 3_600_000;
    const [shown] = lifecycleEvents(generation.id, future);
    const iso = lifecycleEvents(generation.id, 0)[1]!;
    await ingest({ unitId, events: [shown!, { ...iso, clientTs: '2020-01-01T00:00:00.000Z' }] });
    const row = await db().feedbackEvent.findUniqueOrThrow({
      where: { clientEventId: shown!.clientEventId },
    });
    expect(row.clientTs.getTime() - row.serverTs.getTime()).toBeLessThanOrEqual(MAX_CLOCK_SKEW_MS);
    expect(Math.abs(row.serverTs.getTime() - Date.now())).toBeLessThan(60_000);
    expect(row.payload).toMatchObject({ clientTsSent: future, gateMs: 750 });
    const old = await db().feedbackEvent.findUniqueOrThrow({
      where: { clientEventId: iso.clientEventId },
    });
    expect(old.payload).toMatchObject({ clientTsSent: Date.parse('2020-01-01T00:00:00.000Z') });
  });

  it('accepts a sendBeacon body ({json}) on the tRPC endpoint and never answers 500', async () => {
    const unitId = `unit-${randomUUID()}`;
    const generation = await makeGeneration(db(), unitId);
    const beacon = (body: string) =>
      fetchRequestHandler({
        endpoint: '/api/trpc',
        req: new Request('http://localhost/api/trpc/feedback.ingest', {
          method: 'POST',
          body: new Blob([body], { type: 'application/json' }),
        }),
        router: appRouter,
        createContext: () => contextFor(db(), null),
      });
    const events = lifecycleEvents(generation.id);
    const ok = await beacon(JSON.stringify({ json: { unitId, events } }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ result: { data: { json: { accepted: 3 } } } });
    expect((await beacon('{not json')).status).toBe(400);
    expect((await beacon(JSON.stringify({ json: { unitId, events: [] } }))).status).toBe(400);
  });

  it('serves POST /api/v1/feedback with an API key', async () => {
    const user = await makeUser(db(), 'editor');
    const { key } = await createApiKey(
      db(),
      { id: user.id, role: 'editor' },
      { name: 'ingest', role: 'viewer' },
    );
    const unitId = `unit-${randomUUID()}`;
    const generation = await makeGeneration(db(), unitId);
    const post = (body: string, auth = key) =>
      createPublicApi(db).fetch(
        new Request('http://localhost/api/v1/feedback', {
          method: 'POST',
          headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
          body,
        }),
      );
    const events = lifecycleEvents(generation.id);
    const ok = await post(JSON.stringify({ unitId, events }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
    expect((await post(JSON.stringify({ unitId, events }), 'fw_wrong')).status).toBe(401);
    expect((await post('{oops')).status).toBe(400);
    const invalid = await post(JSON.stringify({ unitId, events: [{ type: 'clicked' }] }));
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect((await post('x'.repeat(1024 * 1024 + 1))).status).toBe(413);
    const foreign = await post(JSON.stringify({ unitId: 'someone-else', events }));
    expect(foreign.status).toBe(200);
    const refused = (await foreign.json()) as { accepted: number; rejected: unknown[] };
    expect(refused.accepted).toBe(0);
    expect(refused.rejected).toHaveLength(events.length);
    expect(refused.rejected).toEqual(
      expect.arrayContaining(
        events.map((e) => ({ clientEventId: e.clientEventId, reason: 'generation_of_other_unit' })),
      ),
    );
  });
});
