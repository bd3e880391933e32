/**
 * Streams a dataset version out of the database: generations are read in pages (keyset on
 * createdAt and id in "C" collation, so both databases give one order), turned into rows, passed
 * through the quality gates and written line by line. Memory is bounded by the page size plus
 * two 64-bit-key sets (dedupe and leakage guard, ~100 MB at a million distinct prompts).
 */
import { createHash, type Hash } from 'node:crypto';
import { Prisma } from '~/generated/prisma/client';
import type { Db } from '~/server/db';
import { DomainError } from '~/server/errors';
import { canonicalJson, sha256Hex, textKey, unitInterval } from '../canonical';
import type { DatasetDefinition, Split } from '../definition';
import { scrubPii } from '../pii';
import { requiredClasses, toCandidate, type SourceEvent, type SourceGeneration } from '../rows';
import type { TeacherScorer } from './teacher-logprobs';

export interface BuildSink {
  write(split: Split, line: string): Promise<void> | void;
}

export interface SplitStats {
  rows: number;
  bytes: number;
  sha256: string;
  classes: Record<string, number>;
}

export interface BuildResult {
  /** Generations read up to the watermark that matched the definition's filters. */
  scanned: number;
  splits: Record<Split, SplitStats>;
  /** Rows each filter and quality gate removed (and rows the PII scrub changed). */
  gates: Record<string, number>;
  /** SHA-256 over the files' digests: the version's identity. */
  contentDigest: string;
}

export interface BuildOptions {
  definition: DatasetDefinition;
  watermark: Date;
  sink?: BuildSink;
  onProgress?: (scanned: number) => Promise<void> | void;
  pageSize?: number;
  /** Adds the teacher's top-k logprobs of each kept completion (definition.teacherLogprobs). */
  teacher?: TeacherScorer;
}

interface PageRow extends SourceGeneration {
  createdAt: Date;
}

function pageQuery(d: DatasetDefinition, watermark: Date, after: PageRow | null, limit: number) {
  const where: Prisma.Sql[] = [
    Prisma.sql`"featureId" = ${d.featureId}`,
    Prisma.sql`"createdAt" <= ${watermark}`,
    Prisma.sql`error IS NULL`,
  ];
  if (d.from) where.push(Prisma.sql`"createdAt" >= ${new Date(d.from)}`);
  if (d.to) where.push(Prisma.sql`"createdAt" < ${new Date(d.to)}`);
  if (d.modelVersionIds.length > 0)
    where.push(Prisma.sql`"modelVersionId" IN (${Prisma.join(d.modelVersionIds)})`);
  if (d.primaryOnly) where.push(Prisma.sql`tier = 'primary'`);
  if (after)
    where.push(
      Prisma.sql`("createdAt" > ${after.createdAt} OR ("createdAt" = ${after.createdAt} AND id COLLATE "C" > ${after.id}))`,
    );
  return Prisma.sql`SELECT id, "unitId", prompt, output, "createdAt" FROM generation
    WHERE ${Prisma.join(where, ' AND ')}
    ORDER BY "createdAt", id COLLATE "C" LIMIT ${limit}`;
}

/** How many generations the definition selects before gates: 0 means a 4xx, not a build. */
export async function countCandidates(db: Db, definition: DatasetDefinition, watermark: Date) {
  const page = await db.$queryRaw<PageRow[]>(pageQuery(definition, watermark, null, 1));
  return page.length;
}

async function eventsOf(db: Db, ids: string[], watermark: Date) {
  const rows = await db.$queryRaw<(SourceEvent & { generationId: string })[]>(
    Prisma.sql`SELECT "generationId", type::text AS type, payload, "serverTs", "clientEventId"
      FROM feedback_event WHERE "generationId" IN (${Prisma.join(ids)}) AND "serverTs" <= ${watermark}`,
  );
  const byGeneration = new Map<string, SourceEvent[]>();
  for (const row of rows) {
    const list = byGeneration.get(row.generationId) ?? [];
    list.push(row);
    byGeneration.set(row.generationId, list);
  }
  return byGeneration;
}

export async function buildDataset(db: Db, options: BuildOptions): Promise<BuildResult> {
  const { definition, watermark, sink } = options;
  const pageSize = options.pageSize ?? 500;
  const gates = definition.gates;
  const needsEvents = definition.format !== 'prompt-only' || definition.outcomes.length > 0;
  const counters: Record<string, number> = {};
  const count = (key: string) => (counters[key] = (counters[key] ?? 0) + 1);
  const hashes: Record<Split, Hash> = { train: createHash('sha256'), eval: createHash('sha256') };
  const stats: Record<Split, Omit<SplitStats, 'sha256'>> = {
    train: { rows: 0, bytes: 0, classes: {} },
    eval: { rows: 0, bytes: 0, classes: {} },
  };
  const kept = new Set<string>();
  const promptSplit = new Map<string, Split>();
  let scanned = 0;
  let after: PageRow | null = null;

  for (;;) {
    const page: PageRow[] = await db.$queryRaw<PageRow[]>(
      pageQuery(definition, watermark, after, pageSize),
    );
    if (page.length === 0) break;
    after = page[page.length - 1]!;
    const events = needsEvents
      ? await eventsOf(
          db,
          page.map((g) => g.id),
          watermark,
        )
      : new Map<string, SourceEvent[]>();
    for (const generation of page) {
      scanned++;
      if (unitInterval('sample', definition.seed, generation.id) >= definition.samplingRate) {
        count('sampled_out');
        continue;
      }
      const candidate = toCandidate(definition, generation, events.get(generation.id) ?? []);
      if (candidate.kind === 'drop') {
        count(candidate.reason);
        continue;
      }
      const split: Split =
        unitInterval('split', definition.seed, generation.unitId) < definition.evalFraction
          ? 'eval'
          : 'train';
      const row = { ...candidate.row };
      // Length bounds first: cheap, and they keep very long texts away from the PII patterns.
      const outOfBounds = (r: typeof row) => {
        const p = r.prompt as string;
        return (
          p.length < gates.minPromptChars ||
          p.length > gates.maxPromptChars ||
          Object.entries(r).some(
            ([k, v]) =>
              k !== 'prompt' &&
              typeof v === 'string' &&
              (v.length < 1 || v.length > gates.maxCompletionChars),
          )
        );
      };
      if (outOfBounds(row)) {
        count('length');
        continue;
      }
      if (gates.scrubPii) {
        let changed = false;
        for (const [key, value] of Object.entries(row)) {
          if (typeof value !== 'string') continue;
          const clean = scrubPii(value);
          if (clean !== value) [row[key], changed] = [clean, true];
        }
        if (changed) count('pii_scrubbed');
      }
      const prompt = row.prompt as string;
      const texts = Object.entries(row).filter(([k, v]) => k !== 'prompt' && typeof v === 'string');
      const promptKey = textKey(prompt);
      const seenIn = promptSplit.get(promptKey);
      if (seenIn && seenIn !== split) {
        count('eval_leakage');
        continue;
      }
      const rowKey = `${promptKey}:${textKey(texts.map(([, v]) => v as string).join('\u0000'))}`;
      if (gates.dedupe && kept.has(rowKey)) {
        count('duplicate');
        continue;
      }
      kept.add(rowKey);
      promptSplit.set(promptKey, split);
      // Scored last, after every gate: the teacher is asked only about rows that are kept.
      const scored =
        options.teacher && typeof row.completion === 'string'
          ? { ...row, ...(await options.teacher.score(prompt, row.completion)) }
          : row;
      const line = `${canonicalJson(scored)}\n`;
      hashes[split].update(line);
      const s = stats[split];
      s.rows++;
      s.bytes += Buffer.byteLength(line);
      s.classes[candidate.cls] = (s.classes[candidate.cls] ?? 0) + 1;
      await sink?.write(split, line);
    }
    await options.onProgress?.(scanned);
    if (page.length < pageSize) break;
  }

  const splits = {
    train: { ...stats.train, sha256: hashes.train.digest('hex') },
    eval: { ...stats.eval, sha256: hashes.eval.digest('hex') },
  };
  assertEnoughRows(definition, scanned, splits, counters);
  const contentDigest = sha256Hex(
    `train.jsonl:${splits.train.sha256}\neval.jsonl:${splits.eval.sha256}\n`,
  );
  return { scanned, splits, gates: sortedRecord(counters), contentDigest };
}

function sortedRecord(record: Record<string, number>) {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function assertEnoughRows(
  definition: DatasetDefinition,
  scanned: number,
  splits: Record<Split, SplitStats>,
  dropped: Record<string, number>,
) {
  const total = splits.train.rows + splits.eval.rows;
  const min = definition.gates.minRowsPerClass;
  const detail = { scanned, dropped };
  if (scanned === 0)
    throw new DomainError(
      'BAD_REQUEST',
      'The definition selects no generations up to the watermark: check the feature, model versions, time window and tier',
      detail,
    );
  if (total === 0)
    throw new DomainError(
      'BAD_REQUEST',
      `The definition selects ${scanned} generations but no row passes the filters and quality gates (${describe(dropped)})`,
      detail,
    );
  const classes = requiredClasses(definition);
  const countOf = (cls: string) =>
    (splits.train.classes[cls] ?? 0) + (splits.eval.classes[cls] ?? 0);
  const short = classes
    ? classes.filter((c) => countOf(c) < min).map((c) => `${c}: ${countOf(c)}`)
    : total < min
      ? [`all: ${total}`]
      : [];
  if (short.length > 0)
    throw new DomainError(
      'BAD_REQUEST',
      `Too few rows per class (minimum ${min}; ${short.join(', ')})`,
      detail,
    );
}

const describe = (dropped: Record<string, number>) =>
  Object.entries(dropped)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ') || 'nothing dropped';
