import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, type Db } from '~/server/db';
import { toPublicError } from '~/server/errors';
import type { DatasetDefinitionInput, DatasetFormat } from '../definition';
import { buildDataset } from './dataset-builder';
import { buildNow, createDataset, parseDefinition, requestBuild } from './datasets-service';
import {
  FIXTURE_FEATURE,
  FIXTURE_START,
  fixtureNamespace,
  seedFeedback,
} from './testing/dataset-fixtures';

const SYSTEM = { type: 'system' as const, userId: null };
const WATERMARK = new Date(FIXTURE_START + 30 * 86_400_000);

describe('dataset versions', () => {
  const dbs: { name: string; db: Db }[] = [];
  // A fixed namespace: unit ids decide the split, and with random ones all 12 units could land
  // in train now and then (0.7^12 ≈ 1.4% of runs), leaving eval empty. Fixed, the test is the same
  // every run; its rows are still its own (the model version id carries the namespace).
  const ns = 'dsvers01';
  let modelVersionId = '';
  let dir = '';

  beforeAll(async () => {
    for (const d of inject('databases')) dbs.push({ name: d.name, db: createDb(d.url) });
    // The same rows in each database.
    for (const { db } of dbs) modelVersionId = (await seedFeedback(db, ns)).modelVersionId;
    dir = await mkdtemp(path.join(tmpdir(), 'flywheel-datasets-'));
  });
  afterAll(async () => {
    await Promise.all(dbs.map(({ db }) => db.$disconnect()));
  });

  const definition = (format: DatasetFormat, extra: Partial<DatasetDefinitionInput> = {}) =>
    parseDefinition({
      featureId: FIXTURE_FEATURE,
      modelVersionIds: [modelVersionId],
      seed: 'seed-1',
      format,
      evalFraction: 0.3,
      ...extra,
    });

  it('gives the same bytes on every database, for each format', async () => {
    for (const format of [
      'prompt-completion',
      'preference',
      'unpaired-preference',
      'prompt-only',
    ] as const) {
      const results = [];
      for (const { db } of dbs) {
        const lines: string[] = [];
        const result = await buildDataset(db, {
          definition: definition(format),
          watermark: WATERMARK,
          sink: { write: (split, line) => void lines.push(`${split}:${line}`) },
          pageSize: 16, // several pages: the keyset order must hold across them
        });
        results.push({ result, bytes: lines.join('') });
      }
      const [first, ...rest] = results;
      for (const other of rest) {
        expect(other.result.contentDigest).toBe(first!.result.contentDigest);
        expect(other.bytes).toBe(first!.bytes);
      }
      const r = first!.result;
      console.log(
        `${format}: ${dbs.map((d) => d.name).join(' = ')} digest ${r.contentDigest.slice(0, 16)}…, ` +
          `scanned ${r.scanned}, train ${r.splits.train.rows} / eval ${r.splits.eval.rows}, ` +
          `classes ${JSON.stringify({ ...r.splits.train.classes })}, gates ${JSON.stringify(r.gates)}`,
      );
      expect(r.splits.train.rows).toBeGreaterThan(0);
      expect(r.splits.eval.rows).toBeGreaterThan(0);
      // Every line is canonical JSON with exactly the format's TRL columns.
      for (const line of first!.bytes.split('\n').filter(Boolean)) {
        const row = JSON.parse(line.slice(line.indexOf(':') + 1)) as Record<string, unknown>;
        expect(JSON.stringify(row)).not.toMatch(/jane\.doe|555\) 010/);
        expect(Object.keys(row).sort()).toEqual(
          {
            'prompt-completion': ['completion', 'prompt'],
            preference: ['chosen', 'prompt', 'rejected'],
            'unpaired-preference': ['completion', 'label', 'prompt'],
            'prompt-only': ['prompt'],
          }[format],
        );
      }
    }
  });

  it('changes with the seed and with the watermark, and is stable for the same inputs', async () => {
    const db = dbs[0]!.db;
    const digest = async (extra: Partial<DatasetDefinitionInput>, watermark = WATERMARK) =>
      (await buildDataset(db, { definition: definition('unpaired-preference', extra), watermark }))
        .contentDigest;
    const base = await digest({});
    expect(await digest({})).toBe(base);
    expect(await digest({ seed: 'seed-2' })).not.toBe(base);
    // A watermark an hour after the first row sees only the first rows.
    expect(await digest({}, new Date(FIXTURE_START + 3_600_000))).not.toBe(base);
    expect(await digest({ samplingRate: 0.5 })).not.toBe(base);
  });

  it('splits by unit and applies the quality gates', async () => {
    const db = dbs[0]!.db;
    const rows: { split: string; row: Record<string, unknown> }[] = [];
    const result = await buildDataset(db, {
      definition: definition('prompt-only', { primaryOnly: false, gates: { dedupe: true } }),
      watermark: WATERMARK,
      sink: {
        write: (split, line) =>
          void rows.push({ split, row: JSON.parse(line) as Record<string, unknown> }),
      },
    });
    expect(result.gates.length).toBeGreaterThan(0); // the 5,000-character prompt
    expect(result.gates.duplicate! + (result.gates.eval_leakage ?? 0)).toBeGreaterThan(0);
    expect(result.gates.pii_scrubbed).toBeGreaterThan(0);
    const prompts = new Map<string, string>();
    for (const { split, row } of rows) {
      const p = row.prompt as string;
      expect(prompts.get(p) ?? split).toBe(split); // no prompt in both splits
      prompts.set(p, split);
    }
    expect(rows.map((r) => r.row.prompt)).toContain('Please call me at [phone] about the');
    expect(rows.map((r) => r.row.prompt)).toContain('My email is [email] and the');
  });

  it('stores a version with manifest, digest and files; a definition selecting nothing is a 4xx and no version', async () => {
    const db = dbs[0]!.db;
    const name = `ds-${ns}`;
    const dataset = await createDataset(db, SYSTEM, {
      name,
      definition: {
        featureId: FIXTURE_FEATURE,
        modelVersionIds: [modelVersionId],
        seed: 's',
        format: 'unpaired-preference',
        evalFraction: 0.3,
      },
    });
    const version = await buildNow(db, SYSTEM, { dataset: name, watermark: WATERMARK }, { dir });
    expect(version.version).toBe(1);
    const manifest = JSON.parse(
      await readFile(path.join(dir, version.id, 'manifest.json'), 'utf8'),
    ) as {
      contentDigest: string;
      splits: { train: { rows: number } };
    };
    expect(manifest.contentDigest).toBe(version.contentDigest);
    const card = await readFile(path.join(dir, version.id, 'README.md'), 'utf8');
    expect(card).toMatch(
      /^---\nconfigs:\n- config_name: default\n {2}data_files:\n {2}- split: train\n/,
    );
    const again = await buildNow(db, SYSTEM, { dataset: name, watermark: WATERMARK }, { dir });
    expect(again.version).toBe(2);
    expect(again.contentDigest).toBe(version.contentDigest);

    const empty = await createDataset(db, SYSTEM, {
      name: `${name}-empty`,
      definition: {
        featureId: FIXTURE_FEATURE,
        modelVersionIds: ['no-such-version'],
        seed: 's',
        format: 'prompt-only',
      },
    });
    const refused = await requestBuild(db, SYSTEM, {
      dataset: empty.name,
      watermark: WATERMARK,
    }).catch(toPublicError);
    expect(refused).toMatchObject({
      status: 400,
      message: expect.stringContaining('selects no generations'),
    });
    // Selects generations, but the gates leave nothing: the build fails, still no version.
    const gated = await createDataset(db, SYSTEM, {
      name: `${name}-gated`,
      definition: {
        featureId: FIXTURE_FEATURE,
        modelVersionIds: [modelVersionId],
        seed: 's',
        format: 'prompt-only',
        gates: { minPromptChars: 10_000, maxPromptChars: 20_000 },
      },
    });
    const failed = await buildNow(
      db,
      SYSTEM,
      { dataset: gated.name, watermark: WATERMARK },
      { dir },
    ).catch(toPublicError);
    expect(failed).toMatchObject({
      status: 400,
      message: expect.stringContaining('no row passes'),
    });
    expect(
      await db.datasetVersion.count({ where: { datasetId: { in: [empty.id, gated.id] } } }),
    ).toBe(0);
    expect(await db.datasetBuild.findFirst({ where: { datasetId: gated.id } })).toMatchObject({
      status: 'failed',
    });
    expect(dataset.id).toBeTruthy();
  });

  it('refuses bad definitions, late watermarks and features without training data with 4xx', async () => {
    const db = dbs[0]!.db;
    const bad = (definition: unknown) =>
      createDataset(db, SYSTEM, {
        name: `bad-${fixtureNamespace()}`,
        definition: definition as DatasetDefinitionInput,
      }).catch(toPublicError);
    expect(await bad({ featureId: FIXTURE_FEATURE, seed: 's', format: 'csv' })).toMatchObject({
      status: 400,
    });
    expect(
      await bad({ featureId: FIXTURE_FEATURE, seed: 's', format: 'prompt-only', samplingRate: 0 }),
    ).toMatchObject({ status: 400 });
    await db.feature.upsert({
      where: { id: 'ds-no-training' },
      create: { id: 'ds-no-training', task: 'completion', config: {}, configHash: 't' },
      update: {},
    });
    expect(
      await bad({ featureId: 'ds-no-training', seed: 's', format: 'prompt-only' }),
    ).toMatchObject({ status: 403 });
    expect(
      await bad({ featureId: 'no-such-feature', seed: 's', format: 'prompt-only' }),
    ).toMatchObject({ status: 404 });
    const late = await requestBuild(db, SYSTEM, {
      dataset: `ds-${ns}`,
      watermark: new Date(),
    }).catch(toPublicError);
    expect(late).toMatchObject({ status: 400, message: expect.stringContaining('in the past') });
    // The settle time (DATASET_WATERMARK_SETTLE_MS, 2 min by default) decides what is too late.
    const tenSecondsAgo = new Date(Date.now() - 10_000);
    const refused = await requestBuild(db, SYSTEM, {
      dataset: `ds-${ns}`,
      watermark: tenSecondsAgo,
    }).catch(toPublicError);
    expect(refused).toMatchObject({
      status: 400,
      message: expect.stringContaining('at least 120 s in the past'),
    });
    const queued = await requestBuild(
      db,
      SYSTEM,
      { dataset: `ds-${ns}`, watermark: tenSecondsAgo },
      { settleMs: 5000 },
    );
    expect(queued.watermark).toEqual(tenSecondsAgo);
    await db.datasetBuild.delete({ where: { id: queued.id } });
  });
});
