/**
 * Stores Generations without making suggestions wait and without losing acknowledged ones:
 * a bounded in-memory queue drained by one writer that sends whole batches as one multi-row
 * INSERT (group commit). The generation and its PostHog/OTel outbox copies are written by the
 * same statement, so a copy exists iff its generation does.
 *
 * - Full queue: `offer` says no, the suggestion still answers (recorded: false) and a metric
 *   counts it. Back-pressure instead of an unbounded backlog.
 * - Database unreachable: the batch is retried with backoff for up to `retryForMs`.
 * - Database refuses a row (bad data): the batch is halved until the bad row is alone, so one
 *   row costs only itself.
 * Feedback that arrives while a generation is queued waits for it (see pending-writes.ts).
 */
import { counter, gauge } from '~/server/metrics';
import type { Db } from '~/server/db';
import { trackPendingWrite } from '~/server/pending-writes';
import { querySql } from '~/server/sql';
import { ensureFeatures } from './feature-sync';

export interface GenerationRow {
  id: string;
  featureId: string;
  modelVersionId: string | null;
  experimentId: string | null;
  armId: string | null;
  unitId: string;
  tier: 'primary' | 'fallback_model' | 'ngram' | 'none';
  backend: string | null;
  seed: number;
  prompt: string;
  output: string;
  promptTokens: number | null;
  completionTokens: number | null;
  ttftMs: number | null;
  latencyMs: number;
  error: string | null;
  traceId: string | null;
  spanId: string | null;
  parentSpanId: string | null;
  createdAt: Date;
  /** Whether PostHog/OTel get a copy (abandoned keystrokes stay ours, for latency analysis). */
  copy: boolean;
}

export type NotRecordedReason =
  'queue_full' | 'unit_cap' | 'database_unavailable' | 'rejected_by_database';

export const notRecorded = () =>
  counter(
    'flywheel_generations_not_recorded_total',
    'Suggestions answered whose Generation row was not stored, by reason',
    ['reason'],
  );

export interface GenerationWriterOptions {
  db: Db;
  /** The outbox sinks that are configured now (rows are made only for these). */
  sinks: () => readonly string[];
  /** Generations queued or being written at most; beyond, `offer` refuses. */
  capacity?: number;
  maxBatch?: number;
  /** How long a batch is retried while the database is unreachable. */
  retryForMs?: number;
  log?: (message: string) => void;
}

interface Entry {
  row: GenerationRow;
  done: () => void;
}

const COLUMNS = [
  ['id', 'text'],
  ['featureId', 'text'],
  ['modelVersionId', 'text'],
  ['experimentId', 'text'],
  ['armId', 'text'],
  ['unitId', 'text'],
  ['tier', '"Tier"'],
  ['backend', 'text'],
  ['seed', 'bigint'],
  ['prompt', 'text'],
  ['output', 'text'],
  ['promptTokens', 'integer'],
  ['completionTokens', 'integer'],
  ['ttftMs', 'float8'],
  ['latencyMs', 'float8'],
  ['error', 'text'],
  ['traceId', 'text'],
  ['spanId', 'text'],
  ['parentSpanId', 'text'],
  ['createdAt', 'timestamp(3)'],
] as const satisfies readonly (readonly [keyof GenerationRow, string])[];

// One statement, so it is its own transaction and one round trip. Rows are inserted in id order
// and copies in (sink, id) order, so concurrent writers (several app instances) cannot deadlock.
// Values travel as text arrays and are cast here: one code path for every column type.
const n = COLUMNS.length;
export const INSERT_GENERATIONS_SQL = `
WITH input AS (
  SELECT * FROM unnest(${COLUMNS.map((_, i) => `$${i + 1}::text[]`).join(', ')}, $${n + 1}::boolean[])
    AS t(${COLUMNS.map(([c]) => `"${c}"`).join(', ')}, "copy")
),
ins AS (
  INSERT INTO "generation" (${COLUMNS.map(([c]) => `"${c}"`).join(', ')})
  SELECT ${COLUMNS.map(([c, type]) => `i."${c}"::${type}`).join(', ')}
  FROM input i ORDER BY i."id"
  ON CONFLICT ("id") DO NOTHING
  RETURNING "id"
),
copies AS (
  INSERT INTO "outbox" ("sink", "kind", "aggregateId", "payload", "createdAt", "availableAt")
  SELECT s.sink, 'generation', ins."id", jsonb_build_object('generationId', ins."id"),
         now(), now()
  FROM ins JOIN input i ON i."id" = ins."id" AND i."copy"
  CROSS JOIN unnest($${n + 2}::text[]) AS s(sink)
  ORDER BY s.sink, ins."id"
  ON CONFLICT DO NOTHING
)
SELECT count(*)::int AS "stored" FROM ins`;

function toParams(rows: GenerationRow[], sinks: readonly string[]): unknown[] {
  const text = (v: GenerationRow[keyof GenerationRow]) =>
    v === null ? null : v instanceof Date ? v.toISOString() : String(v);
  return [
    ...COLUMNS.map(([column]) => rows.map((r) => text(r[column]))),
    rows.map((r) => r.copy),
    [...sinks],
  ];
}

/**
 * Whether an error means "the database is not there right now" (retry the same batch) rather
 * than "the database refused this data" (bisect). Only SQLSTATE classes 22 (data), 23
 * (integrity) and 42 (syntax or access) are refusals; anything else is presumed transient.
 */
export function isDataError(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as { code?: unknown; meta?: { code?: unknown }; cause?: unknown };
    for (const code of [e.code, e.meta?.code]) {
      if (typeof code === 'string' && /^(22|23|42)[0-9A-Z]{3}$/.test(code)) return true;
    }
    // Prisma's own codes for refused data (P2000 value too long … P2011 null constraint).
    if (typeof e.code === 'string' && /^P20(0\d|1[01])$/.test(e.code)) return true;
    current = e.cause;
  }
  const message = error instanceof Error ? error.message : String(error);
  return /invalid byte sequence|violates .* constraint|invalid input (syntax|value)/i.test(message);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class GenerationWriter {
  private queue: Entry[] = [];
  private writing = 0;
  /** Rows offered with `offerLater` that are not complete yet. */
  private waiting = 0;
  private readonly later = new Set<Promise<void>>();
  private draining: Promise<void> | null = null;
  private readonly capacity: number;
  private readonly maxBatch: number;
  private readonly retryForMs: number;
  private readonly log: (message: string) => void;

  constructor(private readonly options: GenerationWriterOptions) {
    this.capacity = options.capacity ?? 20_000;
    this.maxBatch = options.maxBatch ?? 500;
    this.retryForMs = options.retryForMs ?? 30_000;
    this.log = options.log ?? ((message) => console.error(message));
    gauge(
      'flywheel_generation_writer_backlog',
      'Generations acknowledged and not yet stored (queued or being written)',
      () => this.backlog,
    );
  }

  get backlog(): number {
    return this.queue.length + this.writing + this.waiting;
  }

  /**
   * Queues a row. Returns a promise that settles (never rejects) once the row is stored or given
   * up, or null when the queue is full (the row is not recorded and the metric counts it).
   */
  offer(row: GenerationRow): Promise<void> | null {
    if (this.backlog >= this.capacity) {
      notRecorded().inc({ reason: 'queue_full' });
      return null;
    }
    let done!: () => void;
    const stored = new Promise<void>((resolve) => (done = resolve));
    this.queue.push({ row, done });
    trackPendingWrite(row.id, stored);
    this.kick();
    return stored;
  }

  /**
   * As `offer`, for a row that is complete only later (its token counts come after the answer):
   * it takes its place in the queue's capacity and in the pending writes now, and is queued when
   * `row` settles. `row` must not reject.
   */
  offerLater(id: string, row: Promise<GenerationRow>): Promise<void> | null {
    if (this.backlog >= this.capacity) {
      notRecorded().inc({ reason: 'queue_full' });
      return null;
    }
    this.waiting++;
    let done!: () => void;
    const stored = new Promise<void>((resolve) => (done = resolve));
    trackPendingWrite(id, stored);
    const queued = row.then((complete) => {
      this.waiting--;
      this.queue.push({ row: complete, done });
      this.kick();
    });
    this.later.add(queued);
    void queued.finally(() => this.later.delete(queued));
    return stored;
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      // A row offered after the drain's last look at the queue, before this ran.
      if (this.queue.length > 0) this.kick();
    });
  }

  /** Resolves when everything queued so far has been stored or given up. */
  async flush(): Promise<void> {
    while (this.draining || this.later.size > 0) {
      await Promise.all(this.later);
      if (this.draining) await this.draining;
    }
  }

  private async drain(): Promise<void> {
    await ensureFeatures(this.options.db).catch((error: unknown) =>
      this.log(`generations: could not mirror the features first: ${String(error)}`),
    );
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.writing = batch.length;
      await this.writeWithRetry(batch);
      this.writing = 0;
      for (const entry of batch) entry.done();
    }
  }

  private async writeWithRetry(batch: Entry[]): Promise<void> {
    const deadline = Date.now() + this.retryForMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      try {
        await this.writeBisecting(batch);
        return;
      } catch (error) {
        if (Date.now() + delay > deadline) {
          notRecorded().inc({ reason: 'database_unavailable' }, batch.length);
          this.log(
            `generations: gave up on ${batch.length} rows after ${this.retryForMs} ms: ${String(error)}`,
          );
          return;
        }
        await sleep(delay);
      }
    }
  }

  /** Writes the batch; on a data error, halves it until the refused rows are alone. */
  private async writeBisecting(batch: Entry[]): Promise<void> {
    try {
      await querySql(
        this.options.db,
        INSERT_GENERATIONS_SQL,
        toParams(
          batch.map((e) => e.row),
          this.options.sinks(),
        ),
      );
    } catch (error) {
      if (!isDataError(error)) throw error;
      if (batch.length === 1) {
        notRecorded().inc({ reason: 'rejected_by_database' });
        this.log(`generations: the database refused ${batch[0]?.row.id}: ${String(error)}`);
        return;
      }
      const middle = batch.length >> 1;
      await this.writeBisecting(batch.slice(0, middle));
      await this.writeBisecting(batch.slice(middle));
    }
  }
}
