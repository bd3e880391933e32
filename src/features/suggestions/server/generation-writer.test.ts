// Nothing acknowledged is lost: every suggestion that answered `recorded: true` has its
// Generation stored, through bursts, a full queue, bad rows and a database outage, on both
// databases.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ingestFeedback } from '~/features/feedback/server/ingest-service';
import { lifecycleEvents } from '~/features/feedback/server/testing/fixtures';
import { ingestInputSchema } from '~/features/feedback/events';
import { createDb, type Db } from '~/server/db';
import { describeOnEachDatabase } from '~/test/databases';
import { BackendPool } from './backend-pool';
import { getFeature } from './feature-registry';
import { toGenerationRow } from './generation-store';
import { GenerationWriter, notRecorded, type NotRecordedReason } from './generation-writer';
import { completeSuggestion } from './suggestions-service';
import { createSuggestionRuntime } from './suggestions-runtime';

const notRecordedCount = async (reason: NotRecordedReason) =>
  (await notRecorded().get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

/** A port that refuses connections: the backend is down. */
const DEAD_BACKEND = 'http://127.0.0.1:9';

const countStored = (db: Db, ids: string[]) => db.generation.count({ where: { id: { in: ids } } });

/** A TCP proxy in front of the database that the test can cut and restore (an outage). */
async function cuttableProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  let up = true;
  const server = net.createServer((client) => {
    if (!up) return client.destroy();
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const url = new URL(target);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      up = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describeOnEachDatabase('generation writer', ({ db, url }) => {
  it('stores every acknowledged suggestion of a burst after a backend failure', async () => {
    const rt = createSuggestionRuntime(
      db(),
      new BackendPool([DEAD_BACKEND], { failureThreshold: 5, cooldownMs: 60_000 }),
      { generationsPerUnitPerMinute: 100_000 },
    );
    const before = await notRecordedCount('queue_full');
    const units = Array.from({ length: 50 }, () => `burst-${randomUUID()}`);
    const outcomes = await Promise.all(
      Array.from({ length: 2_500 }, async (_, i) => {
        const unitId = units[i % units.length]!;
        const outcome = await completeSuggestion(rt, {
          featureId: 'inline-completion',
          unitId,
          textBefore: `Thanks for the note about the meeting ${i}. I will`,
        });
        return { unitId, ...outcome };
      }),
    );
    const acknowledged = outcomes.filter((o) => o.response.recorded);
    // Feedback sent the moment each answer arrives is accepted: ingest waits for queued rows.
    const feedback = await Promise.all(
      acknowledged
        .slice(0, 200)
        .map(({ unitId, response }) =>
          ingestFeedback(
            db(),
            ingestInputSchema.parse({ unitId, events: lifecycleEvents(response.generationId!) }),
            { sinks: [] },
          ),
        ),
    );
    expect(feedback.every((f) => f.accepted === 3 && f.rejected.length === 0)).toBe(true);
    await Promise.all(outcomes.map((o) => o.persisted));
    const ids = acknowledged.map((o) => o.response.generationId!);
    expect(await countStored(db(), ids)).toBe(acknowledged.length);
    expect(acknowledged.length).toBe(2_500);
    expect(await notRecordedCount('queue_full')).toBe(before);
    console.log(
      `burst after a backend failure: 2500 suggestions, ${acknowledged.length} acknowledged, ` +
        `${await countStored(db(), ids)} stored; tiers: ${[...new Set(outcomes.map((o) => o.response.tier))].join(', ')}`,
    );
  });

  it('refuses beyond its capacity, says so, and stores exactly what it acknowledged', async () => {
    const writer = new GenerationWriter({ db: db(), sinks: () => [], capacity: 400 });
    const before = await notRecordedCount('queue_full');
    const rows = Array.from({ length: 2_500 }, () => row(`cap-${randomUUID()}`));
    const offers = rows.map((r) => writer.offer(r));
    const acknowledged = rows.filter((_, i) => offers[i] !== null).map((r) => r.id);
    const refused = rows.filter((_, i) => offers[i] === null).map((r) => r.id);
    await writer.flush();
    expect(acknowledged).toHaveLength(400);
    expect(await countStored(db(), acknowledged)).toBe(400);
    expect(await countStored(db(), refused)).toBe(0);
    expect((await notRecordedCount('queue_full')) - before).toBe(2_100);
    console.log(
      `capacity 400: 2500 offered, 400 acknowledged, 400 stored, 2100 counted not recorded`,
    );
  });

  it('caps the generations one unit can store per minute', async () => {
    const rt = createSuggestionRuntime(
      db(),
      new BackendPool([DEAD_BACKEND], { failureThreshold: 1, cooldownMs: 60_000 }),
      { generationsPerUnitPerMinute: 5 },
    );
    const unitId = `cap-${randomUUID()}`;
    const outcomes = [];
    for (let i = 0; i < 8; i++)
      outcomes.push(
        await completeSuggestion(rt, {
          featureId: 'inline-completion',
          unitId,
          textBefore: `a ${i}`,
        }),
      );
    expect(outcomes.map((o) => o.response.recorded)).toEqual([
      ...Array<boolean>(5).fill(true),
      ...Array<boolean>(3).fill(false),
    ]);
    expect(outcomes.slice(5).every((o) => o.response.generationId === null)).toBe(true);
    await Promise.all(outcomes.map((o) => o.persisted));
    expect(await db().generation.count({ where: { unitId } })).toBe(5);
  });

  it('stores a row offered just as the previous batch finishes', async () => {
    const writer = new GenerationWriter({ db: db(), sinks: () => [] });
    const [a, b] = [row(`race-${randomUUID()}`), row(`race-${randomUUID()}`)];
    // Offered from the callback of the first row's write: after the writer's last look at its
    // queue, before its drain has ended.
    const second = await new Promise<{ stored: Promise<void> | null }>((resolve) => {
      void writer.offer(a)!.then(() => resolve({ stored: writer.offer(b) }));
    });
    let timer: NodeJS.Timeout | undefined;
    const written = await Promise.race([
      second.stored!.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5_000))),
    ]);
    clearTimeout(timer);
    expect(written).toBe(true);
    expect(await countStored(db(), [a.id, b.id])).toBe(2);
  });

  it('loses only the row the database refuses (the batch is bisected)', async () => {
    const writer = new GenerationWriter({ db: db(), sinks: () => [], log: () => {} });
    const before = await notRecordedCount('rejected_by_database');
    const rows = Array.from({ length: 64 }, () => row(`bisect-${randomUUID()}`));
    rows[37] = { ...rows[37]!, featureId: 'no-such-feature' }; // a foreign-key violation
    for (const r of rows) void writer.offer(r);
    await writer.flush();
    expect(
      await countStored(
        db(),
        rows.map((r) => r.id),
      ),
    ).toBe(63);
    expect((await notRecordedCount('rejected_by_database')) - before).toBe(1);
  });

  let proxied: Db | undefined;
  let proxy: Awaited<ReturnType<typeof cuttableProxy>> | undefined;
  beforeAll(async () => {
    proxy = await cuttableProxy(new URL(url()));
    proxied = createDb(proxy.url);
  });
  afterAll(async () => {
    await proxied?.$disconnect();
    await proxy?.close();
  });

  it('keeps acknowledged rows through a database outage in the middle of a burst', async () => {
    const writer = new GenerationWriter({
      db: proxied!,
      sinks: () => [],
      maxBatch: 50,
      log: () => {},
    });
    const rows = Array.from({ length: 600 }, () => row(`outage-${randomUUID()}`));
    const offers = rows.slice(0, 300).map((r) => writer.offer(r));
    await new Promise((resolve) => setTimeout(resolve, 5));
    proxy!.cut();
    offers.push(...rows.slice(300).map((r) => writer.offer(r)));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    proxy!.restore();
    await writer.flush();
    expect(offers.every((o) => o !== null)).toBe(true);
    expect(
      await countStored(
        db(),
        rows.map((r) => r.id),
      ),
    ).toBe(600);
    console.log('database outage mid-burst: 600 acknowledged, 600 stored');
  });
});

function row(unitId: string) {
  const id = randomUUID();
  return toGenerationRow({
    id,
    feature: getFeature('inline-completion'),
    unitId,
    seed: 1,
    prompt: 'Hello',
    result: {
      text: ' there',
      tier: 'ngram',
      backend: null,
      model: null,
      promptTokens: null,
      completionTokens: null,
      ttftMs: null,
      latencyMs: 1,
      error: null,
      aborted: false,
      traceId: '0'.repeat(32),
      spanId: '0'.repeat(16),
      parentSpanId: null,
      attempts: [],
    },
  });
}
