/**
 * The rollup job folds new generations and feedback into `rollup_hour` rows per (feature, model
 * version, arm, tier, hour of the generation).
 *
 * Work comes from `rollup_queue`, filled by triggers in the inserting transactions. One fold, in
 * one transaction:
 *   1. takes a transaction advisory lock (try: another app instance folding means skip this round;
 *      a fold is one writer because a generation's contribution is not linear in its events: two
 *      folders adding "shown" for one generation at once would count it twice);
 *   2. in one statement (generation-facts.ts) deletes up to `batchSize` queue rows, oldest first,
 *      and reads the touched generations' facts as they were before and after that claim: the two
 *      readings differ by exactly what was claimed;
 *   3. adds after − before to their rows: late feedback moves its generation's hour, a duplicate
 *      event changes nothing (facts are per-type max/min), latency histograms are subtracted and
 *      added bucket by bucket.
 * A crash rolls the transaction back and the queue rows come back: nothing is lost or doubled.
 */
import type { Prisma } from '~/generated/prisma/client';
import type { Db } from '~/server/db';
import {
  addCounts,
  contributionOf,
  COUNT_FIELDS,
  zeroCounts,
  type Counts,
  type GenerationFacts,
} from '~/features/feedback/metrics';
import { addInto, bucketOf, toSparse } from '~/lib/latency-sketch';
import { claimAndReadFacts, type FactsReading, type GenerationKey } from './generation-facts';

/** Arbitrary, fixed: the key of the fold's advisory lock. */
const ROLLUP_LOCK_KEY = 7_461_982_301;

export interface FoldResult {
  /** False when another instance held the lock. */
  locked: boolean;
  /** Queue rows folded. */
  claimed: number;
  /** Rollup rows written. */
  rows: number;
}

interface Delta {
  key: { featureId: string; modelVersionId: string; armId: string; tier: string; hour: string };
  counts: Counts;
  server: Map<number, number>;
  client: Map<number, number>;
  person: Map<number, number>;
}

const HIST_FIELDS = ['server', 'client', 'person'] as const;

const ARRAYS = [
  'shownByLatency',
  'acceptByLatency',
  ...HIST_FIELDS.flatMap((h) => [`${h}Idx`, `${h}Cnt`]),
];
const q = (names: readonly string[], prefix = '') => names.map((n) => `${prefix}"${n}"`).join(', ');

// The stored rows a fold changes, read under the fold's lock, merged in JS and written whole:
// cheaper than merging sparse arrays in SQL, and no other writer can interleave.
/** The two grains the fold writes: hours, and the same sums per UTC day for long ranges. */
const GRAINS = [
  { table: 'rollup_hour', time: 'hour' },
  { table: 'rollup_day', time: 'day' },
] as const;
type Grain = (typeof GRAINS)[number];

const currentSql = ({ table, time }: Grain) => `
SELECT r."featureId", r."modelVersionId", r."armId", r.tier::text AS tier,
  to_char(r."${time}", 'YYYY-MM-DD"T"HH24:00:00') AS hour,
  ${COUNT_FIELDS.map((f) => `r."${f}"::float8 AS "${f}"`).join(', ')}, ${q(ARRAYS, 'r.')}
FROM jsonb_to_recordset($1::jsonb) AS k("featureId" text, "modelVersionId" text, "armId" text, tier text, hour text)
JOIN ${table} r ON r."featureId" = k."featureId" AND r."modelVersionId" = k."modelVersionId"
  AND r."armId" = k."armId" AND r.tier = k.tier::"Tier" AND r."${time}" = k.hour::timestamp(3)`;

type StoredRow = Delta['key'] &
  Counts &
  Record<`${(typeof HIST_FIELDS)[number]}${'Idx' | 'Cnt'}`, number[]>;

const keyId = (key: Delta['key']) =>
  [key.featureId, key.modelVersionId, key.armId, key.tier, key.hour].join('\u0000');

async function mergeStored(tx: Prisma.TransactionClient, grain: Grain, deltas: Delta[]) {
  const stored = await tx.$queryRawUnsafe<StoredRow[]>(
    currentSql(grain),
    JSON.stringify(deltas.map((d) => d.key)),
  );
  const byKey = new Map(deltas.map((d) => [keyId(d.key), d]));
  for (const row of stored) {
    const delta = byKey.get(keyId(row));
    if (!delta) continue;
    addCounts(delta.counts, row);
    for (const h of HIST_FIELDS) addInto(delta[h], { idx: row[`${h}Idx`], cnt: row[`${h}Cnt`] });
  }
}

const upsertSql = ({ table, time }: Grain) => `
INSERT INTO ${table} AS r ("featureId", "modelVersionId", "armId", tier, "${time}",
  ${q(COUNT_FIELDS)}, ${q(ARRAYS)}, "updatedAt")
SELECT x."featureId", x."modelVersionId", x."armId", x.tier::"Tier", x.hour::timestamp(3),
  ${q(COUNT_FIELDS, 'x.')}, ${q(ARRAYS, 'x.')}, now()
FROM jsonb_to_recordset($1::jsonb) AS x("featureId" text, "modelVersionId" text, "armId" text,
  tier text, hour text, ${COUNT_FIELDS.map((f) => `"${f}" float8`).join(', ')},
  ${ARRAYS.map((a) => `"${a}" int[]`).join(', ')})
ON CONFLICT ("featureId", "modelVersionId", "armId", tier, "${time}") DO UPDATE SET
  ${[...COUNT_FIELDS, ...ARRAYS].map((f) => `"${f}" = EXCLUDED."${f}"`).join(',\n  ')},
  "updatedAt" = now()`;

/** Hour deltas summed per UTC day (the key's `hour` becomes the day's midnight). */
function perDay(deltas: Delta[]): Delta[] {
  const days = new Map<string, Delta>();
  for (const d of deltas) {
    const key = { ...d.key, hour: `${d.key.hour.slice(0, 10)}T00:00:00` };
    let day = days.get(keyId(key));
    if (!day) {
      day = { key, counts: zeroCounts(), server: new Map(), client: new Map(), person: new Map() };
      days.set(keyId(key), day);
    }
    addCounts(day.counts, d.counts);
    for (const h of HIST_FIELDS) addInto(day[h], toSparse(d[h]));
  }
  return [...days.values()];
}

export async function foldOnce(
  db: Db,
  options: { batchSize?: number; now?: Date } = {},
): Promise<FoldResult> {
  const batchSize = options.batchSize ?? 20_000;
  return db.$transaction(
    async (tx) => {
      const [lock] = await tx.$queryRawUnsafe<{ ok: boolean }[]>(
        'SELECT pg_try_advisory_xact_lock($1::bigint) AS ok',
        ROLLUP_LOCK_KEY,
      );
      if (!lock?.ok) return { locked: false, claimed: 0, rows: 0 };
      // Planning-time JIT costs more than these index-driven statements take.
      await tx.$executeRawUnsafe('SET LOCAL jit = off');
      const { claimed, readings } = await claimAndReadFacts(tx, batchSize);
      if (claimed === 0) return { locked: true, claimed: 0, rows: 0 };
      const deltas = deltasOf(readings);
      if (deltas.length > 0) {
        // Days from the hour deltas before mergeStored turns those into whole stored rows.
        const days = perDay(deltas);
        for (const [grain, rows] of [
          [GRAINS[0], deltas],
          [GRAINS[1], days],
        ] as const) {
          await mergeStored(tx, grain, rows);
          await tx.$executeRawUnsafe(upsertSql(grain), JSON.stringify(rows.map(toRecord)));
        }
      }
      await tx.$executeRawUnsafe(
        `INSERT INTO rollup_state (id, "lastFoldedAt", "foldedTotal") VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET "lastFoldedAt" = EXCLUDED."lastFoldedAt",
           "foldedTotal" = rollup_state."foldedTotal" + EXCLUDED."foldedTotal"`,
        options.now ?? new Date(),
        claimed,
      );
      return { locked: true, claimed, rows: deltas.length };
    },
    { timeout: 120_000, maxWait: 10_000 },
  );
}

function deltasOf(readings: FactsReading[]): Delta[] {
  const deltas = new Map<string, Delta>();
  const add = (key: GenerationKey, facts: GenerationFacts | null, sign: number) => {
    const contribution = facts && contributionOf(facts);
    if (!contribution) return;
    const id = keyId(key);
    let delta = deltas.get(id);
    if (!delta) {
      delta = {
        key: {
          featureId: key.featureId,
          modelVersionId: key.modelVersionId,
          armId: key.armId,
          tier: key.tier,
          hour: key.hour,
        },
        counts: zeroCounts(),
        server: new Map(),
        client: new Map(),
        person: new Map(),
      };
      deltas.set(id, delta);
    }
    addCounts(delta.counts, contribution.counts, sign);
    for (const h of HIST_FIELDS) {
      const value = contribution.latency[h];
      if (value !== null) addInto(delta[h], { idx: [bucketOf(value)], cnt: [1] }, sign);
    }
  };
  for (const { generation, before, after } of readings) {
    add(generation, before, -1);
    add(generation, after, 1);
  }
  // Most fold rounds only add; a generation whose facts did not change nets to nothing.
  return [...deltas.values()].filter(
    (d) =>
      COUNT_FIELDS.some((f) => d.counts[f] !== 0) ||
      HIST_FIELDS.some((h) => [...d[h].values()].some((v) => v !== 0)),
  );
}

function toRecord(delta: Delta) {
  const record: Record<string, unknown> = { ...delta.key, ...delta.counts };
  for (const h of HIST_FIELDS) {
    const sparse = toSparse(delta[h]);
    record[`${h}Idx`] = sparse.idx;
    record[`${h}Cnt`] = sparse.cnt;
  }
  return record;
}

/** Folds until the queue is empty (tests, seed script, bench). */
export async function foldAll(db: Db, options: { batchSize?: number } = {}) {
  let claimed = 0;
  for (;;) {
    const result = await foldOnce(db, options);
    claimed += result.claimed;
    if (!result.locked || result.claimed === 0) return claimed;
  }
}

export interface RollupJobOptions {
  intervalMs?: number;
  batchSize?: number;
  log?: (message: string) => void;
}

/** Starts folding every `intervalMs`; a full batch is followed at once by the next. */
export function startRollupJob(db: Db, options: RollupJobOptions = {}): () => void {
  const intervalMs = options.intervalMs ?? 5_000;
  const log = options.log ?? ((message: string) => console.warn(message));
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const round = async () => {
    try {
      const batchSize = options.batchSize ?? 20_000;
      let result: FoldResult;
      do result = await foldOnce(db, { batchSize });
      while (!stopped && result.locked && result.claimed === batchSize);
    } catch (error) {
      log(
        `rollups: fold failed (will retry): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (!stopped) timer = setTimeout(() => void round(), intervalMs);
  };
  timer = setTimeout(() => void round(), intervalMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
