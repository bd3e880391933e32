/**
 * The exports as an ML engineer uses them: Python's `datasets` loads each format's folder, and
 * TRL's trainers (SFT, DPO, KTO) take one step on a tiny random GPT-2. The virtual environment
 * comes from the local wheel mirror pip is configured with (ENVIRONMENT.md) and is cached in
 * node_modules/.cache, so only the first run pays for the install (minutes on a busy machine).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, type Db } from '~/server/db';
import { DATASET_FORMATS } from '../definition';
import { buildNow, createDataset } from './datasets-service';
import {
  FIXTURE_FEATURE,
  FIXTURE_START,
  fixtureNamespace,
  seedFeedback,
} from './testing/dataset-fixtures';

const run = promisify(execFile);
const VENV = path.resolve('node_modules/.cache/flywheel-py-datasets');
const PYTHON = path.join(VENV, 'bin/python');
// onnx too: `npm run distill` runs in the same environment.
const PACKAGES = ['torch==2.13.0+cpu', 'datasets', 'trl', 'onnx'];
const SCRIPT = path.resolve('src/features/datasets/python/check_export.py');
const TOKENIZER = ['flywheel-student', 'flywheel-teacher']
  .map((m) => path.resolve(`inference/models/${m}/1/tokenizer.json`))
  .find((p) => existsSync(p));

async function ensureVenv() {
  const ready = await run(PYTHON, ['-c', 'import datasets, trl, torch'])
    .then(() => true)
    .catch(() => false);
  if (ready) return;
  await run('python3', ['-m', 'venv', VENV]);
  // The mirror is local: no retries against the unreachable PyPI.
  await run(
    path.join(VENV, 'bin/pip'),
    ['install', '-q', '--index-url', 'file:///opt/pypi/simple', ...PACKAGES],
    { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 },
  );
}

describe('exported folders in Python datasets and TRL', () => {
  let db: Db;
  const folders: string[] = [];
  beforeAll(async () => {
    const database = inject('databases')[0]!;
    db = createDb(database.url);
    const dir = await mkdtemp(path.join(tmpdir(), 'flywheel-py-'));
    const ns = fixtureNamespace();
    const { modelVersionId } = await seedFeedback(db, ns, 16, 7);
    const actor = { type: 'system' as const, userId: null };
    for (const format of DATASET_FORMATS) {
      const name = `py-${format}-${ns}`;
      await createDataset(db, actor, {
        name,
        definition: {
          featureId: FIXTURE_FEATURE,
          modelVersionIds: [modelVersionId],
          seed: 'py',
          format,
          evalFraction: 0.25,
        },
      });
      const version = await buildNow(
        db,
        actor,
        { dataset: name, watermark: new Date(FIXTURE_START + 86_400_000 * 30) },
        { dir },
      );
      folders.push(`${format}=${path.join(dir, version.id)}`);
    }
    await ensureVenv();
  }, 20 * 60_000);
  afterAll(async () => {
    await db?.$disconnect();
  });

  it(
    'loads every format with load_dataset(folder) and takes one SFT, DPO and KTO step',
    async () => {
      expect(TOKENIZER, 'a demo model tokenizer.json').toBeDefined();
      const started = Date.now();
      const { stdout } = await run(PYTHON, [SCRIPT, TOKENIZER!, ...folders], {
        maxBuffer: 16 * 1024 * 1024,
        env: {
          ...process.env,
          HF_DATASETS_OFFLINE: '1',
          HF_HUB_OFFLINE: '1',
          TRANSFORMERS_VERBOSITY: 'error',
        },
      }).catch((error: { stdout?: string; stderr?: string }) => {
        throw new Error(
          `check_export.py failed:\n${error.stdout ?? ''}\n${(error.stderr ?? '').slice(-4000)}`,
        );
      });
      const reports = stdout
        .split('\n')
        .filter((l) => l.startsWith('{"'))
        .map(
          (l) =>
            JSON.parse(l) as {
              format: string;
              ok: boolean;
              splits: object;
              step: { trainer: string; loss: number } | null;
            },
        );
      console.log(
        `python check in ${((Date.now() - started) / 1000).toFixed(1)} s:\n${reports.map((r) => JSON.stringify(r)).join('\n')}`,
      );
      expect(reports.map((r) => r.format)).toEqual([...DATASET_FORMATS]);
      expect(reports.every((r) => r.ok)).toBe(true);
      expect(reports.filter((r) => r.step).map((r) => r.step!.trainer)).toEqual([
        'SFTTrainer',
        'DPOTrainer',
        'KTOTrainer',
      ]);
    },
    5 * 60_000,
  );
});
