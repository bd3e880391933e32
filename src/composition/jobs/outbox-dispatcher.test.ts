import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ingestFeedback } from '~/features/feedback/server/ingest-service';
import {
  configuredSinkNames,
  outboxEventUuid,
  pruneDeliveredOutbox,
  type OutboxSinkName,
} from '~/features/feedback/server/outbox';
import { configuredSinks } from '~/features/feedback/server/sinks/configured-sinks';
import { createOtelSink } from '~/features/feedback/server/sinks/otel-sink';
import { createPostHogSink } from '~/features/feedback/server/sinks/posthog-sink';
import {
  startFakePostHog,
  type FakePostHog,
} from '~/features/feedback/server/testing/fake-posthog';
import {
  ensureTestFeature,
  lifecycleEvents,
  testGenerationFields,
} from '~/features/feedback/server/testing/fixtures';
import { GenerationWriter } from '~/features/suggestions/server/generation-writer';
import { ingestInputSchema } from '~/features/feedback/events';
import { createDb, type Db } from '~/server/db';
import { describeOnEachDatabase } from '~/test/databases';
import { createOutboxDispatcher, type OutboxDispatcher } from './outbox-dispatcher';

const fastBackoff = { baseMs: 1, maxMs: 20 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const BOTH_SINKS: OutboxSinkName[] = ['posthog', 'otel'];

/**
 * Stores a generation for a fresh unit the way the app does (the generation writer, which also
 * writes its copies) and ingests its shown/accepted/retention events, for the given sinks.
 */
async function produce(db: Db, sinks: OutboxSinkName[] = BOTH_SINKS) {
  const unitId = `unit-${randomUUID()}`;
  await ensureTestFeature(db);
  const writer = new GenerationWriter({ db, sinks: () => sinks });
  const generation = {
    ...testGenerationFields,
    id: randomUUID(),
    unitId,
    modelVersionId: null,
    experimentId: null,
    armId: null,
    seed: 1,
    error: null,
    traceId: null,
    spanId: null,
    parentSpanId: null,
    createdAt: new Date(),
    copy: true,
  };
  await writer.offer(generation);
  const input = ingestInputSchema.parse({ unitId, events: lifecycleEvents(generation.id) });
  await ingestFeedback(db, input, { sinks });
  return { unitId, generation, eventIds: input.events.map((e) => e.clientEventId) };
}

/** Runs rounds until a round finds nothing due (waiting out the short test backoff). */
async function drain(dispatcher: OutboxDispatcher, sink = 'posthog') {
  for (let round = 0; round < 200; round++) {
    const result = (await dispatcher.runOnce())[sink]!;
    if (result.claimed === 0) return;
    if (result.failed) await sleep(25);
  }
  throw new Error('outbox did not drain');
}

/**
 * Dispatches until `done()` holds. The database is shared with other test files, whose copies
 * may be waiting out a backoff when a round claims nothing: only this test's own rows tell.
 */
async function dispatchUntil(dispatcher: OutboxDispatcher, done: () => Promise<boolean>) {
  for (let round = 0; round < 400; round++) {
    if (await done()) return;
    await dispatcher.runOnce();
    await sleep(10);
  }
  throw new Error('outbox did not deliver the rows in time');
}

/** Asserts that no event reached the fake PostHog twice (raw deliveries, not deduplicated). */
function expectEachUuidOnce(fake: FakePostHog) {
  const counts = new Map<string, number>();
  for (const e of fake.received) counts.set(e.uuid, (counts.get(e.uuid) ?? 0) + 1);
  expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
}

describeOnEachDatabase('outbox dispatcher', ({ db }) => {
  let fake: FakePostHog;
  beforeAll(async () => {
    fake = await startFakePostHog();
  });
  afterAll(async () => {
    await fake.stop();
  });
  const dispatcher = () =>
    createOutboxDispatcher({
      db: db(),
      sinks: [createPostHogSink({ apiKey: 'phc_test', host: fake.url, requestTimeoutMs: 2000 })],
      batchSize: 50,
      backoff: fastBackoff,
      log: () => undefined,
    });

  it('delivers generations and outcomes through posthog-node exactly once across an outage', async () => {
    const d = dispatcher();
    await drain(d); // whatever earlier tests left
    fake.failWith(503);
    const first = await produce(db());
    expect((await d.runOnce()).posthog).toMatchObject({ failed: expect.any(Number) });
    const failed = await db().outbox.findFirstOrThrow({
      where: { sink: 'posthog', aggregateId: first.generation.id },
    });
    expect(failed).toMatchObject({ deliveredAt: null, attempts: 1 });
    expect(failed.lastError).toContain('503');

    await fake.stop(); // connection refused now
    const second = await produce(db());
    await sleep(25);
    expect((await d.runOnce()).posthog!.failed).toBeGreaterThan(0);
    expect(fake.received.filter((e) => e.distinct_id === first.unitId)).toEqual([]);

    await fake.start();
    fake.failWith(null);
    await drain(d);

    const ours = await db().outbox.findMany({
      where: {
        sink: 'posthog',
        aggregateId: {
          in: [first, second].flatMap((p) => [p.generation.id, ...p.eventIds]),
        },
      },
    });
    expect(ours).toHaveLength(8);
    expect(ours.every((r) => r.deliveredAt !== null && r.lastError === null)).toBe(true);
    const byUuid = new Map(fake.received.map((e) => [e.uuid, e]));
    for (const row of ours) expect(byUuid.has(outboxEventUuid(row))).toBe(true);
    expectEachUuidOnce(fake);
    expect(fake.apiKeys.every((k) => k === 'phc_test')).toBe(true);

    const generation = fake.received.find(
      (e) => e.event === '$ai_generation' && e.properties.$ai_span_id === first.generation.id,
    );
    expect(generation).toMatchObject({
      distinct_id: first.unitId,
      properties: {
        $ai_trace_id: first.generation.id,
        $ai_model: 'primary',
        $ai_provider: 'test-worker',
        $ai_input: [{ role: 'user', content: 'The quick brown' }],
        $ai_output_choices: [{ role: 'assistant', content: ' fox jumps' }],
        $ai_input_tokens: 4,
        $ai_output_tokens: 3,
        $ai_latency: 0.085,
        $ai_is_error: false,
        feature: 'test-inline-completion',
        tier: 'primary',
      },
    });
    const accepted = fake.received.find(
      (e) => e.event === 'suggestion accepted' && e.distinct_id === second.unitId,
    );
    expect(accepted?.properties).toMatchObject({
      generation_id: second.generation.id,
      $ai_trace_id: second.generation.id,
      shown_to_decision_ms: 900,
      accepted_chars: 10,
      feature: 'test-inline-completion',
    });
  });

  it('makes copies only for the configured sinks', async () => {
    expect(configuredSinks({})).toEqual([]);
    expect(configuredSinkNames({ POSTHOG_API_KEY: 'phc_x' })).toEqual(['posthog']);
    const { generation, eventIds } = await produce(db(), ['posthog']);
    const rows = await db().outbox.findMany({
      where: { aggregateId: { in: [generation.id, ...eventIds] } },
    });
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.sink === 'posthog')).toBe(true);
    const none = await produce(db(), []);
    expect(
      await db().outbox.count({
        where: { aggregateId: { in: [none.generation.id, ...none.eventIds] } },
      }),
    ).toBe(0);
  });

  it('prunes delivered copies after the retention period, never undelivered ones', async () => {
    const d = dispatcher();
    await drain(d);
    const delivered = await produce(db(), ['posthog']);
    await drain(d);
    const pending = await produce(db(), ['otel']); // no otel dispatcher here: stays undelivered
    const ids = [delivered, pending].flatMap((p) => [p.generation.id, ...p.eventIds]);
    const mine = () => db().outbox.findMany({ where: { aggregateId: { in: ids } } });
    // Within the retention period nothing of this test's goes (other files' older rows may).
    await pruneDeliveredOutbox(db(), new Date(Date.now() - 60_000));
    expect(await mine()).toHaveLength(8);
    const pruned = await pruneDeliveredOutbox(db(), new Date(Date.now() + 1_000), { chunk: 3 });
    expect(pruned).toBeGreaterThanOrEqual(4);
    const left = await mine();
    expect(left).toHaveLength(4);
    expect(left.every((r) => r.sink === 'otel' && r.deliveredAt === null)).toBe(true);
  });

  it('delivers GenAI spans to an OTLP endpoint and retries after a failure', async () => {
    const received: { status: number; body: string }[] = [];
    let status = 500;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ status, body: Buffer.concat(chunks).toString() });
        res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const d = createOutboxDispatcher({
        db: db(),
        sinks: [createOtelSink({ endpoint, timeoutMs: 2000 })],
        batchSize: 500,
        backoff: fastBackoff,
        log: () => undefined,
      });
      const { generation } = await produce(db());
      expect((await d.runOnce()).otel!.failed).toBeGreaterThan(0);
      status = 200;
      const row = () =>
        db().outbox.findFirstOrThrow({ where: { sink: 'otel', aggregateId: generation.id } });
      await dispatchUntil(d, async () => (await row()).deliveredAt !== null);
      expect((await row()).deliveredAt).not.toBeNull();
      const delivered = received
        .filter((r) => r.status === 200)
        .map((r) => r.body)
        .join('\n');
      expect(delivered).toContain('"gen_ai.operation.name"');
      expect(delivered).toContain('"gen_ai.usage.input_tokens"');
      expect(delivered).toContain(`"stringValue":"${generation.id}"`);
      expect(delivered).toContain('suggestion accepted');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('two outbox dispatchers side by side [postgresql-15]', () => {
  const database = inject('databases').find((d) => d.name === 'postgresql-15');
  const dbs: Db[] = [];
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.$disconnect()));
  });

  it('deliver each row once', async () => {
    if (!database) throw new Error('PostgreSQL 15 is not running');
    // Each dispatcher has its own connection pool, as two app instances would.
    dbs.push(createDb(database.url), createDb(database.url));
    const fake = await startFakePostHog({ delayMs: 20 });
    try {
      const produced = [];
      for (let i = 0; i < 12; i++) produced.push(await produce(dbs[0]!));
      const dispatchers = dbs.map((db) =>
        createOutboxDispatcher({
          db,
          sinks: [createPostHogSink({ apiKey: 'phc_test', host: fake.url })],
          batchSize: 4,
          backoff: fastBackoff,
          log: () => undefined,
        }),
      );
      const claimed = await Promise.all(
        dispatchers.map(async (d) => {
          let total = 0;
          for (;;) {
            const { claimed: n } = (await d.runOnce()).posthog!;
            if (n === 0) return total;
            total += n;
          }
        }),
      );
      expect(claimed.every((n) => n > 0)).toBe(true);
      expectEachUuidOnce(fake);
      const ours = produced.flatMap((p) => [p.generation.id, ...p.eventIds]);
      const uuids = new Set(fake.received.map((e) => e.uuid));
      const rows = await dbs[0]!.outbox.findMany({
        where: { sink: 'posthog', aggregateId: { in: ours } },
      });
      expect(rows).toHaveLength(48);
      expect(rows.every((r) => r.deliveredAt && uuids.has(outboxEventUuid(r)))).toBe(true);
    } finally {
      await fake.stop();
    }
  });
});
