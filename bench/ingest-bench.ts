/**
 * Feedback ingest benchmark on a real PostgreSQL 15 (a throwaway cluster from the Debian binaries).
 *   (a) naive: Prisma, one INSERT per event and per outbox copy, in one transaction per batch
 *   (b) floor: pg, one multi-row INSERT of the events only (no validation, no outbox, no checks)
 *   (b2) floor with outbox: pg, our one statement (events + copies for both sinks), nothing else
 *   (c) ours: ingestFeedback (zod validation, ownership check, events), no sink configured
 *       (the default: copies are made only for configured sinks)
 *   (c2) ours with both sinks configured (events + PostHog and OTel copies)
 * Batches of 100 events from CLIENTS concurrent clients for a fixed time each. Prints events/s
 * and batch latency percentiles, with ratios. Usage: npm run bench:ingest (BENCH_CLIENTS=4,
 * BENCH_SECONDS=8). Never a test: nothing here asserts on time.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { ingestInputSchema, type FeedbackEventInput } from '../src/features/feedback/events';
import { INSERT_EVENTS_SQL, ingestFeedback } from '../src/features/feedback/server/ingest-service';
import { OUTBOX_SINKS, type OutboxSinkName } from '../src/features/feedback/server/outbox';
import { applyMigrations } from '../src/server/db/migrations';
import { startPostgresCluster } from '../src/server/db/postgres-cluster';
import { PrismaClient } from '../src/generated/prisma/client';
import type { Db } from '../src/server/db';
import { attachPool } from '../src/server/sql';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const BATCH = 100;
const UNITS = 200;
const GENERATIONS_PER_UNIT = 5;
const log = (msg: string) => console.error(`[bench] ${msg}`);

interface Unit {
  unitId: string;
  generationIds: string[];
}

function makeBatch(unit: Unit): { unitId: string; events: FeedbackEventInput[] } {
  const now = Date.now();
  const events = Array.from({ length: BATCH }, (_, i): FeedbackEventInput => {
    const generationId = unit.generationIds[i % unit.generationIds.length]!;
    const clientEventId = randomUUID();
    return i % 3 === 0
      ? {
          type: 'shown',
          clientEventId,
          generationId,
          clientTs: now,
          payload: { gateMs: 750, responseToShownMs: 12 },
        }
      : i % 3 === 1
        ? {
            type: 'accepted',
            clientEventId,
            generationId,
            clientTs: now,
            payload: { shownToDecisionMs: 800, acceptedChars: 14 },
          }
        : {
            type: 'retention',
            clientEventId,
            generationId,
            clientTs: now,
            payload: { window: '2m', editDistance: 0.12, retainedChars: 12, acceptedChars: 14 },
          };
  });
  return { unitId: unit.unitId, events };
}

interface Result {
  events: number;
  seconds: number;
  latencies: number[];
}

/** CLIENTS loops, each sending one batch after another until the time is up. */
async function run(
  seconds: number,
  units: Unit[],
  send: (batch: ReturnType<typeof makeBatch>) => Promise<void>,
): Promise<Result> {
  const latencies: number[] = [];
  let events = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let i = client; performance.now() < deadline; i += CLIENTS) {
        const batch = makeBatch(units[i % units.length]!);
        const t = performance.now();
        await send(batch);
        latencies.push(performance.now() - t);
        events += batch.events.length;
      }
    }),
  );
  return { events, seconds: (performance.now() - start) / 1000, latencies };
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? NaN;

async function main() {
  log(
    `starting PostgreSQL 15 (${os.cpus().length} cores, ${CLIENTS} clients, ${SECONDS}s per run)`,
  );
  const cluster = await startPostgresCluster();
  const pool = new pg.Pool({ connectionString: cluster.url, max: CLIENTS + 2 });
  // Not ~/server/db: that module is marked server-only (Next.js), which plain tsx refuses.
  const dbPool = new pg.Pool({ connectionString: cluster.url, max: 10 });
  const adapter = new PrismaPg(dbPool, { disposeExternalPool: true });
  const db: Db = attachPool(new PrismaClient({ adapter }), dbPool);
  try {
    await applyMigrations(cluster.url);
    await db.feature.create({
      data: { id: 'bench', task: 'completion', config: {}, configHash: 'bench' },
    });
    const units: Unit[] = Array.from({ length: UNITS }, (_, u) => ({
      unitId: `unit-${u}`,
      generationIds: Array.from({ length: GENERATIONS_PER_UNIT }, () => randomUUID()),
    }));
    await db.generation.createMany({
      data: units.flatMap((u) =>
        u.generationIds.map((id) => ({
          id,
          featureId: 'bench',
          unitId: u.unitId,
          tier: 'primary' as const,
          prompt: 'p',
          output: 'o',
          latencyMs: 50,
        })),
      ),
    });

    log('warm-up');
    const ingest = (sinks: OutboxSinkName[]) => async (b: ReturnType<typeof makeBatch>) => {
      await ingestFeedback(db, ingestInputSchema.parse(b), { sinks });
    };
    await run(1, units, ingest([]));

    log('(c) ours: ingestFeedback, no sink configured');
    const ours = await run(SECONDS, units, ingest([]));
    log('(c2) ours: ingestFeedback, both sinks configured');
    const oursSinks = await run(SECONDS, units, ingest([...OUTBOX_SINKS]));

    log('(b) floor: one multi-row INSERT with pg');
    const floor = await run(SECONDS, units, async (b) => {
      const values: string[] = [];
      const params: unknown[] = [];
      for (const e of b.events) {
        const n = params.length;
        values.push(
          `($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}::"FeedbackType", $${n + 5}::jsonb, $${n + 6})`,
        );
        params.push(
          randomUUID(),
          e.clientEventId,
          e.generationId,
          e.type,
          JSON.stringify(e.payload),
          new Date(),
        );
      }
      await pool.query(
        `INSERT INTO feedback_event ("id", "clientEventId", "generationId", "type", "payload", "clientTs") VALUES ${values.join(',')}`,
        params,
      );
    });

    const ourStatement = (sinks: readonly string[]) => async (b: ReturnType<typeof makeBatch>) => {
      const ts = new Date().toISOString();
      await pool.query(INSERT_EVENTS_SQL, [
        b.events.map((e) => e.clientEventId),
        b.events.map((e) => e.generationId),
        b.events.map((e) => e.type),
        b.events.map((e) => JSON.stringify(e.payload)),
        b.events.map(() => ts),
        ts,
        sinks,
        b.unitId,
      ]);
    };
    log('(b1) our statement through pg, no sink (no validation, no Prisma)');
    const statementOnly = await run(SECONDS, units, ourStatement([]));
    log('(b2) floor with outbox: our statement through pg, both sinks');
    const floorOutbox = await run(SECONDS, units, ourStatement(OUTBOX_SINKS));

    log('(a) naive: Prisma, row by row in a transaction');
    const naive = await run(Math.min(SECONDS, 5), units, async (b) => {
      await db.$transaction(async (tx) => {
        for (const e of b.events) {
          await tx.feedbackEvent.create({
            data: {
              clientEventId: e.clientEventId,
              generationId: e.generationId,
              type: e.type,
              payload: e.payload,
              clientTs: new Date(),
            },
          });
          for (const sink of ['posthog', 'otel'])
            await tx.outbox.create({
              data: { sink, kind: 'feedback', aggregateId: e.clientEventId, payload: {} },
            });
        }
      });
    });

    const rate = (r: Result) => r.events / r.seconds;
    const rows = [
      ['(a) naive Prisma row-by-row', naive],
      ['(b) floor pg multi-row, events only', floor],
      ['(b1) our statement via pg, no sink', statementOnly],
      ['(b2) floor pg, events + outbox copies', floorOutbox],
      ['(c) ours ingestFeedback, no sink', ours],
      ['(c2) ours ingestFeedback, both sinks', oursSinks],
    ] as const;
    console.log(
      `\nFeedback ingest, PostgreSQL 15, ${CLIENTS} clients, batches of ${BATCH} events, ${os.cpus().length} cores\n`,
    );
    console.log(
      '| run                                   |  events/s | p50 ms | p99 ms | batches |',
    );
    console.log(
      '|---------------------------------------|----------:|-------:|-------:|--------:|',
    );
    for (const [name, r] of rows)
      console.log(
        `| ${name.padEnd(37)} | ${rate(r).toFixed(0).padStart(9)} | ${pct(r.latencies, 50).toFixed(1).padStart(6)} | ${pct(r.latencies, 99).toFixed(1).padStart(6)} | ${String(r.latencies.length).padStart(7)} |`,
      );
    console.log(
      `\nours (no sink) / events-only floor: ${(rate(ours) / rate(floor)).toFixed(2)}× (target ≥ 0.8×: ${rate(ours) >= 0.8 * rate(floor) ? 'met' : 'NOT met'}); ` +
        `ours (both sinks) / floor with copies: ${(rate(oursSinks) / rate(floorOutbox)).toFixed(2)}×; ours / naive: ${(rate(ours) / rate(naive)).toFixed(1)}×`,
    );
  } finally {
    await db.$disconnect();
    await pool.end();
    await cluster.stop();
  }
}

await main();
