import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeOnEachDatabase } from '~/test/databases';
import { COUNT_FIELDS } from '~/features/feedback/metrics';
import { mergeAll, quantile, RELATIVE_ACCURACY } from '~/lib/latency-sketch';
import type { Db } from '~/server/db';
import { foldAll, foldOnce } from './rollup-job';
import { ingestInputSchema } from '~/features/feedback/events';
import { ingestFeedback } from '~/features/feedback/server/ingest-service';
import { lifecycleEvents, makeGeneration } from '~/features/feedback/server/testing/fixtures';
import { generateTraffic } from './traffic';

async function setUp(db: Db) {
  const tag = randomUUID().slice(0, 8);
  const featureId = `test-dash-${tag}`;
  await db.feature.create({
    data: { id: featureId, task: 'completion', config: {}, configHash: 't' },
  });
  const versions = await Promise.all(
    [1, 2].map((v) =>
      db.modelVersion.create({
        data: { name: `dash-${tag}`, version: String(v), backendModel: `dash-${tag}/${v}` },
      }),
    ),
  );
  const experiment = await db.experiment.create({
    data: {
      featureId,
      name: `dash ${tag}`,
      salt: tag,
      arms: {
        create: versions.map((v, i) => ({
          name: i === 0 ? 'control' : 'treatment',
          isControl: i === 0,
          modelVersionId: v.id,
          allocationBp: 5000,
        })),
      },
    },
    include: { arms: true },
  });
  const variants = experiment.arms.map((arm, i) => ({
    modelVersionId: arm.modelVersionId,
    armId: arm.id,
    quality: i === 0 ? 1 : 1.3,
    speed: i === 0 ? 1 : 0.7,
  }));
  // A variant outside the experiment (no arm), as the feature's default model.
  variants.push({
    modelVersionId: versions[0]!.id,
    armId: null as unknown as string,
    quality: 1,
    speed: 1,
  });
  return { featureId, variants };
}

// The oracle: the metric definitions written once more as one direct aggregation of the raw rows.
const DIRECT_SQL = `
WITH g AS (
  SELECT * FROM generation WHERE "featureId" = $1 AND (error IS NULL OR error <> 'aborted by the caller')
), f AS (
  SELECT "generationId" AS gid,
    bool_or(type = 'shown') AS sh,
    min((payload->>'responseToShownMs')::float8) FILTER (WHERE type = 'shown') AS client_ms,
    bool_or(type = 'accepted') AS acc, bool_or(type = 'accepted_partial') AS part,
    bool_or(type = 'typed_through') AS typed, bool_or(type = 'dismissed') AS dis, bool_or(type = 'ignored') AS ign,
    max(coalesce((payload->>'acceptedChars')::float8, (payload->>'suggestedChars')::float8))
      FILTER (WHERE type IN ('accepted', 'accepted_partial')) AS chars,
    max((payload->>'retainedChars')::float8) FILTER (WHERE type = 'retention' AND payload->>'window' = '30s') AS r30,
    max((payload->>'retainedChars')::float8) FILTER (WHERE type = 'retention' AND payload->>'window' = '2m') AS r2,
    max((payload->>'retainedChars')::float8) FILTER (WHERE type = 'retention' AND payload->>'window' = '10m') AS r10,
    max((payload->>'editDistance')::float8) FILTER (WHERE type = 'retention' AND payload->>'window' = '2m') AS ed
  FROM feedback_event WHERE "generationId" IN (SELECT id FROM g) GROUP BY 1
), o AS (
  SELECT g.*, coalesce(f.sh, false) AS shown, f.*,
    CASE WHEN NOT coalesce(f.sh, false) THEN NULL WHEN f.acc THEN 'full' WHEN f.part THEN 'partial'
      WHEN f.typed THEN 'typed' WHEN f.dis THEN 'dismissed' WHEN f.ign THEN 'ignored' END AS outcome,
    CASE WHEN g."latencyMs" + coalesce(f.client_ms, 0) < 100 THEN 1 WHEN g."latencyMs" + coalesce(f.client_ms, 0) < 200 THEN 2
      WHEN g."latencyMs" + coalesce(f.client_ms, 0) < 400 THEN 3 WHEN g."latencyMs" + coalesce(f.client_ms, 0) < 800 THEN 4
      WHEN g."latencyMs" + coalesce(f.client_ms, 0) < 1600 THEN 5 ELSE 6 END AS lb
  FROM g LEFT JOIN f ON f.gid = g.id
)
SELECT coalesce("modelVersionId", '') || '|' || coalesce("armId", '') || '|' || tier::text || '|' ||
    to_char(date_trunc('hour', "createdAt"), 'YYYY-MM-DD"T"HH24') AS key,
  count(*)::float8 AS "opportunities",
  (count(*) FILTER (WHERE error IS NOT NULL))::float8 AS "errors",
  (count(*) FILTER (WHERE shown))::float8 AS "shown",
  (count(*) FILTER (WHERE outcome = 'full'))::float8 AS "acceptedFull",
  (count(*) FILTER (WHERE outcome = 'partial'))::float8 AS "acceptedPartial",
  (count(*) FILTER (WHERE outcome = 'typed'))::float8 AS "typedThrough",
  (count(*) FILTER (WHERE outcome = 'dismissed'))::float8 AS "dismissed",
  (count(*) FILTER (WHERE outcome = 'ignored'))::float8 AS "ignored",
  coalesce(sum(chars) FILTER (WHERE outcome IN ('full', 'partial')), 0) AS "acceptedChars",
  coalesce(sum(r30) FILTER (WHERE shown), 0) AS "arc30s",
  coalesce(sum(r2) FILTER (WHERE shown), 0) AS "arc2m",
  coalesce(sum(r10) FILTER (WHERE shown), 0) AS "arc10m",
  (count(ed) FILTER (WHERE shown))::float8 AS "retained2m",
  coalesce(sum(ed) FILTER (WHERE shown), 0) AS "editDistance2m",
  ARRAY[${[1, 2, 3, 4, 5, 6].map((b) => `count(*) FILTER (WHERE shown AND lb = ${b})`).join(', ')}]::int[] AS "shownByLatency",
  ARRAY[${[1, 2, 3, 4, 5, 6].map((b) => `count(*) FILTER (WHERE outcome IN ('full', 'partial') AND lb = ${b})`).join(', ')}]::int[] AS "acceptByLatency"
FROM o GROUP BY 1 ORDER BY 1`;

const ROLLUP_SQL = `
SELECT "modelVersionId" || '|' || "armId" || '|' || tier::text || '|' || to_char(hour, 'YYYY-MM-DD"T"HH24') AS key,
  ${COUNT_FIELDS.map((f) => `"${f}"::float8`).join(', ')}, "shownByLatency", "acceptByLatency",
  "serverIdx", "serverCnt", "clientIdx", "clientCnt", "personIdx", "personCnt"
FROM rollup_hour WHERE "featureId" = $1 ORDER BY 1`;

type Row = Record<string, unknown> & { key: string };

function comparable(rows: Row[]) {
  return rows
    .filter((r) => Number(r.opportunities) !== 0)
    .map((r) => ({
      key: r.key,
      ...Object.fromEntries(COUNT_FIELDS.map((f) => [f, Math.round(Number(r[f]) * 1e6) / 1e6])),
      shownByLatency: r.shownByLatency,
      acceptByLatency: r.acceptByLatency,
    }));
}

describeOnEachDatabase('dashboard rollups', ({ db }) => {
  it('equal a direct aggregation of the raw rows, with late and duplicate feedback folded in pieces', async () => {
    const { featureId, variants } = await setUp(db());
    const start = new Date(Date.UTC(2026, 10, 20, 9, 17));
    const traffic = generateTraffic([{ featureId, variants }], {
      seed: 42,
      suggestions: 600,
      start,
      spanMs: 5 * 3_600_000,
      lateShare: 0.3,
      duplicateShare: 0.05,
    });
    await db().generation.createMany({ data: traffic.generations });
    await db().feedbackEvent.createMany({ data: traffic.events });
    // Small batches split generations from their events; concurrent folds contend for the lock.
    const rounds = await Promise.all([
      foldOnce(db(), { batchSize: 97 }),
      foldOnce(db(), { batchSize: 97 }),
    ]);
    expect(rounds.filter((r) => r.locked).length).toBeGreaterThanOrEqual(1);
    await foldAll(db(), { batchSize: 211 });
    // Late feedback, and a retried batch (the same clientEventIds again) that stores nothing.
    await db().feedbackEvent.createMany({ data: traffic.late });
    await db().feedbackEvent.createMany({
      data: traffic.events.slice(0, 50),
      skipDuplicates: true,
    });
    await foldAll(db(), { batchSize: 150 });

    const direct = await db().$queryRawUnsafe<Row[]>(DIRECT_SQL, featureId);
    const rolled = await db().$queryRawUnsafe<Row[]>(ROLLUP_SQL, featureId);
    expect(direct.length).toBeGreaterThan(10);
    expect(comparable(rolled)).toEqual(comparable(direct));

    // Day rows are the hour rows summed per UTC day, histograms included.
    const perDay = (table: string, time: string) => `
      SELECT to_char(date_trunc('day', "${time}"), 'YYYY-MM-DD') AS day, sum(opportunities)::int AS o,
        sum(shown)::int AS s, sum("arc2m")::float8 AS arc,
        sum((SELECT sum(c) FROM unnest("serverCnt") c))::int AS server,
        sum((SELECT sum(c) FROM unnest("personCnt") c))::int AS person
      FROM ${table} WHERE "featureId" = $1 GROUP BY 1 ORDER BY 1`;
    const days = await db().$queryRawUnsafe<unknown[]>(perDay('rollup_day', 'day'), featureId);
    expect(days.length).toBeGreaterThan(0);
    expect(days).toEqual(await db().$queryRawUnsafe(perDay('rollup_hour', 'hour'), featureId));

    // Percentiles merged from the hourly sketches against exact percentiles of the raw rows.
    const [exact] = await db().$queryRawUnsafe<{ p50: number; p95: number; p99: number }[]>(
      `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY "latencyMs") AS p50,
              percentile_disc(0.95) WITHIN GROUP (ORDER BY "latencyMs") AS p95,
              percentile_disc(0.99) WITHIN GROUP (ORDER BY "latencyMs") AS p99
       FROM generation WHERE "featureId" = $1 AND (error IS NULL OR error <> 'aborted by the caller')`,
      featureId,
    );
    const server = mergeAll(
      rolled.map((r) => ({ idx: r.serverIdx as number[], cnt: r.serverCnt as number[] })),
    );
    const errors = (['p50', 'p95', 'p99'] as const).map((p, i) => {
      const q = [0.5, 0.95, 0.99][i]!;
      return Math.abs(quantile(server, q)! - exact![p]) / exact![p];
    });
    console.log(
      `rollups: ${rolled.length} rows; server p50/p95/p99 relative error ${errors.map((e) => (e * 100).toFixed(3) + '%').join(' ')}`,
    );
    for (const e of errors) expect(e).toBeLessThanOrEqual(RELATIVE_ACCURACY * 1.0001);
  });

  it('equal the direct aggregation when generations and feedback are stored while folds run', async () => {
    const { featureId, variants } = await setUp(db());
    const traffic = generateTraffic([{ featureId, variants }], {
      seed: 77,
      suggestions: 300,
      start: new Date(Date.UTC(2026, 10, 21, 22, 40)),
      spanMs: 3 * 3_600_000,
      lateShare: 0.4,
      duplicateShare: 0.05,
    });
    // Eight writers store generations and their feedback interleaved, in small batches (a retried
    // one among them), late feedback last, while two folding loops claim small batches: folds see
    // generations, first and late feedback mixed, and a queue that others are still filling.
    const eventsOf = (ids: Set<string | undefined>, rows: typeof traffic.events) =>
      rows.filter((e) => ids.has(e.generationId));
    let writing = true;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w * 10; i < traffic.generations.length; i += 80) {
        const generations = traffic.generations.slice(i, i + 10);
        const ids = new Set(generations.map((g) => g.id));
        await db().generation.createMany({ data: generations });
        await db().feedbackEvent.createMany({ data: eventsOf(ids, traffic.events) });
        await db().feedbackEvent.createMany({
          data: eventsOf(ids, traffic.events).slice(0, 3),
          skipDuplicates: true,
        });
      }
    });
    const lateWriters = async () =>
      Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = w * 10; i < traffic.late.length; i += 80)
            await db().feedbackEvent.createMany({ data: traffic.late.slice(i, i + 10) });
        }),
      );
    const folders = Array.from({ length: 2 }, async () => {
      while (writing) await foldOnce(db(), { batchSize: 37 });
    });
    try {
      await Promise.all(writers);
      await lateWriters();
    } finally {
      writing = false;
      await Promise.all(folders);
    }
    await foldAll(db(), { batchSize: 53 });
    const direct = await db().$queryRawUnsafe<Row[]>(DIRECT_SQL, featureId);
    expect(direct.length).toBeGreaterThan(5);
    expect(comparable(await db().$queryRawUnsafe<Row[]>(ROLLUP_SQL, featureId))).toEqual(
      comparable(direct),
    );
  });

  it('a batch that claims a new generation and late feedback of a folded one counts each once', async () => {
    const { featureId, variants } = await setUp(db());
    const traffic = generateTraffic([{ featureId, variants }], {
      seed: 5,
      suggestions: 200,
      start: new Date(Date.UTC(2026, 10, 22, 8)),
      spanMs: 3_600_000,
      lateShare: 0.5,
      duplicateShare: 0,
    });
    const [first, second] = [traffic.generations.slice(0, 100), traffic.generations.slice(100)];
    const early = new Set(first.map((g) => g.id));
    await db().generation.createMany({ data: first });
    await db().feedbackEvent.createMany({
      data: traffic.events.filter((e) => early.has(e.generationId)),
    });
    await foldAll(db());
    // One batch now holds new generations (queue rows without an event) and late feedback of
    // generations whose earlier feedback is already folded.
    await db().generation.createMany({ data: second });
    await db().feedbackEvent.createMany({
      data: [...traffic.late, ...traffic.events.filter((e) => !early.has(e.generationId))],
    });
    await foldOnce(db(), { batchSize: 100_000 });
    expect(comparable(await db().$queryRawUnsafe<Row[]>(ROLLUP_SQL, featureId))).toEqual(
      comparable(await db().$queryRawUnsafe<Row[]>(DIRECT_SQL, featureId)),
    );
  });

  it('a fold that finds nothing to do writes nothing; one that fails leaves the queue as it was', async () => {
    const { featureId, variants } = await setUp(db());
    const traffic = generateTraffic([{ featureId, variants }], {
      seed: 7,
      suggestions: 20,
      start: new Date(),
      spanMs: 60_000,
    });
    await db().generation.createMany({ data: traffic.generations });
    const before = await db().rollupQueue.count();
    expect(before).toBeGreaterThanOrEqual(20);
    await expect(
      db().$transaction(async (tx) => {
        await tx.$executeRawUnsafe('DELETE FROM rollup_queue');
        throw new Error('crash mid-fold');
      }),
    ).rejects.toThrow('crash mid-fold');
    expect(await db().rollupQueue.count()).toBeGreaterThanOrEqual(before);
    await foldAll(db());
    const rows = await db().rollupHour.findMany({ where: { featureId } });
    expect(rows.reduce((a, r) => a + r.opportunities, 0)).toBe(
      traffic.generations.filter((g) => g.error !== 'aborted by the caller').length,
    );
  });

  it('counts what the real ingest path stores, once, and a retried batch not again', async () => {
    const unitId = `unit-${randomUUID()}`;
    const generation = await makeGeneration(db(), unitId);
    const input = ingestInputSchema.parse({ unitId, events: lifecycleEvents(generation.id) });
    await ingestFeedback(db(), input);
    await ingestFeedback(db(), input);
    expect(await db().rollupQueue.count({ where: { generationId: generation.id } })).toBe(4);
    await foldAll(db());
    expect(await db().rollupQueue.count({ where: { generationId: generation.id } })).toBe(0);
  });
});
