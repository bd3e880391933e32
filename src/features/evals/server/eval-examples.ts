/**
 * The fixed set of logged prompts an eval scores, each with what the user kept:
 * - a dataset version's eval split (its JSONL rows: `prompt` and the kept `completion`, or the
 *   `chosen` text of a preference pair), or
 * - a seeded sample of stored generations with feedback, read up to a watermark, whose kept text is
 *   the one the datasets domain derives (rows.ts: the retained text, else what was taken, else
 *   what the user typed instead).
 * Either way the order is by a hash of (seed, example), never by `random()`: the same config gives
 * the same examples.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { datasetDefinitionSchema } from '~/features/datasets/definition';
import { toCandidate, type SourceEvent } from '~/features/datasets/rows';
import { versionFilePath } from '~/features/datasets/server/datasets-queries';
import type { DatasetsOptions } from '~/features/datasets/server/datasets-service';
import { Prisma } from '~/generated/prisma/client';
import type { Db } from '~/server/db';
import { DomainError } from '~/server/errors';
import type { EvalConfig } from '../config';

export interface EvalExample {
  /** Hash of (seed, example): the sample order and the example's sampling seed. */
  key: string;
  prompt: string;
  kept: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The kept text of an export row per format; null for rows with none. */
export function keptOfRow(format: string, row: Record<string, unknown>): string | null {
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : null);
  switch (format) {
    case 'prompt-completion':
      return text(row.completion);
    case 'preference':
      return text(row.chosen);
    case 'unpaired-preference':
      return row.label === true ? text(row.completion) : null;
    default:
      return null;
  }
}

async function datasetExamples(
  db: Db,
  config: EvalConfig & { source: { kind: 'dataset' } },
  options: DatasetsOptions,
): Promise<EvalExample[]> {
  const { path } = await versionFilePath(db, config.source.datasetVersionId, 'eval.jsonl', options);
  const examples: EvalExample[] = [];
  const lines = createInterface({ input: createReadStream(path) });
  for await (const line of lines) {
    if (!line) continue;
    const row = JSON.parse(line) as Record<string, unknown>;
    const kept = keptOfRow(config.source.format, row);
    if (typeof row.prompt !== 'string' || row.prompt === '' || kept === null) continue;
    examples.push({ key: sha256(`${config.seed}\u0000${line}`), prompt: row.prompt, kept });
  }
  examples.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return examples.slice(0, config.sampleSize);
}

interface Window {
  featureId: string;
  from: Date | null;
  watermark: Date;
}

// Generations of the feature in the window whose feedback can name a kept text.
function eligible({ featureId, from, watermark }: Window) {
  return Prisma.sql`g."featureId" = ${featureId} AND g."createdAt" <= ${watermark}
    AND g."createdAt" >= ${from ?? new Date(0)} AND g.prompt <> '' AND ${keptEvidence(watermark)}`;
}

function generationsPage(window: Window, seed: string, after: string, limit: number) {
  return Prisma.sql`SELECT * FROM (
      SELECT g.id, g."unitId", g.prompt, g.output, md5(${seed}::text || '/' || g.id) AS key
      FROM generation g WHERE ${eligible(window)}) s
    WHERE s.key COLLATE "C" > ${after}::text ORDER BY s.key COLLATE "C" LIMIT ${limit}`;
}

// Feedback that can name a kept text: an accept, or a typed replacement.
function keptEvidence(watermark: Date) {
  return Prisma.sql`EXISTS (SELECT 1 FROM feedback_event e
    WHERE e."generationId" = g.id AND e."serverTs" <= ${watermark} AND (
      e.type::text IN ('accepted', 'accepted_partial', 'typed_through')
      OR (e.type::text IN ('dismissed', 'ignored') AND e.payload->>'typedText' IS NOT NULL)))`;
}

interface GenerationRow {
  id: string;
  unitId: string;
  prompt: string;
  output: string;
  key: string;
}

/** Whether any stored generation of the feature up to `watermark` has a kept text (for a 4xx). */
export async function hasGenerationExamples(db: Db, window: Window) {
  const rows = await db.$queryRaw<{ id: string }[]>(
    Prisma.sql`SELECT g.id FROM generation g WHERE ${eligible(window)} LIMIT 1`,
  );
  return rows.length > 0;
}

async function generationExamples(
  db: Db,
  config: EvalConfig & { source: { kind: 'generations' } },
  pageSize = 500,
): Promise<EvalExample[]> {
  const watermark = new Date(config.source.watermark);
  const window = {
    featureId: config.featureId,
    from: config.source.from ? new Date(config.source.from) : null,
    watermark,
  };
  // rows.ts's prompt-completion row is "what the user kept" (one definition with the datasets).
  const definition = datasetDefinitionSchema.parse({
    featureId: config.featureId,
    seed: config.seed,
    format: 'prompt-completion',
  });
  const examples: EvalExample[] = [];
  let after = '';
  while (examples.length < config.sampleSize) {
    const page = await db.$queryRaw<GenerationRow[]>(
      generationsPage(window, config.seed, after, pageSize),
    );
    if (page.length === 0) break;
    after = page[page.length - 1]!.key;
    const events = await db.$queryRaw<(SourceEvent & { generationId: string })[]>(
      Prisma.sql`SELECT "generationId", type::text AS type, payload, "serverTs", "clientEventId"
        FROM feedback_event
        WHERE "generationId" IN (${Prisma.join(page.map((g) => g.id))}) AND "serverTs" <= ${watermark}`,
    );
    const byGeneration = new Map<string, SourceEvent[]>();
    for (const e of events) {
      const list = byGeneration.get(e.generationId) ?? [];
      list.push(e);
      byGeneration.set(e.generationId, list);
    }
    for (const g of page) {
      const candidate = toCandidate(definition, g, byGeneration.get(g.id) ?? []);
      if (candidate.kind !== 'row' || candidate.target.trim() === '') continue;
      examples.push({ key: g.key, prompt: g.prompt, kept: candidate.target });
      if (examples.length >= config.sampleSize) break;
    }
  }
  return examples;
}

export async function loadExamples(
  db: Db,
  config: EvalConfig,
  options: DatasetsOptions = {},
): Promise<EvalExample[]> {
  const examples =
    config.source.kind === 'dataset'
      ? await datasetExamples(db, config as EvalConfig & { source: { kind: 'dataset' } }, options)
      : await generationExamples(db, config as EvalConfig & { source: { kind: 'generations' } });
  if (examples.length === 0)
    throw new DomainError('BAD_REQUEST', 'No logged prompt with a kept text to score');
  return examples;
}
