// npm run dataset:build -- <dataset> [--define <definition.json>] [--watermark <ISO time>] [--out <dir>]
//   Builds a version of <dataset> now (the same code the build job runs) with a progress line, and
//   prints its digest and counts. --define creates the dataset from a JSON definition first (see
//   src/features/datasets/definition.ts); --out copies the export folder (train.jsonl, eval.jsonl,
//   manifest.json, README.md) there. Uses DATABASE_URL, or the embedded PostgreSQL (the running
//   one under npm start, else started for the run).
import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../src/generated/prisma/client';
import { DEFAULT_DATASETS_DIR } from '../src/features/datasets/server/dataset-files';
import {
  createDataset,
  requestBuild,
  runBuild,
} from '../src/features/datasets/server/datasets-service';
import { openDatabase } from '../src/server/db/open-database';
import { loadServerEnv } from '../src/server/env';
import { toPublicError } from '../src/server/errors';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { define: { type: 'string' }, watermark: { type: 'string' }, out: { type: 'string' } },
});
const name = positionals[0];
if (!name) {
  console.error(
    'Usage: npm run dataset:build -- <dataset> [--define <definition.json>] [--watermark <ISO>] [--out <dir>]',
  );
  process.exit(2);
}

const database = await openDatabase(loadServerEnv(), { ifRunning: 'attach', log: () => {} });
const db = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });
const actor = { type: 'system' as const, userId: null };
let status = 0;
try {
  if (values.define) {
    const definition: unknown = JSON.parse(await readFile(values.define, 'utf8'));
    if (!(await db.dataset.findUnique({ where: { name } })))
      await createDataset(db, actor, { name, definition: definition as never });
  }
  const build = await requestBuild(db, actor, { dataset: name, watermark: values.watermark });
  const started = Date.now();
  const version = await runBuild(db, build.id, {
    onProgress: (scanned) => {
      const rate = Math.round(scanned / Math.max(0.001, (Date.now() - started) / 1000));
      process.stderr.write(
        `\r  building: ${scanned.toLocaleString('en')} generations read (${rate}/s)   `,
      );
    },
  });
  process.stderr.write('\n');
  const manifest = version.manifest as {
    splits: Record<string, { rows: number; classes: object }>;
    gates: object;
  };
  const folder = path.join(DEFAULT_DATASETS_DIR, version.id);
  console.log(`${name} v${version.version}  sha256 ${version.contentDigest}`);
  console.log(`  watermark ${build.watermark.toISOString()}, ${version.rowCount} rows`);
  for (const [split, s] of Object.entries(manifest.splits))
    console.log(`  ${split}: ${s.rows} rows ${JSON.stringify(s.classes)}`);
  console.log(`  gates: ${JSON.stringify(manifest.gates)}`);
  if (values.out) {
    await cp(folder, values.out, { recursive: true });
    console.log(`  copied to ${values.out}`);
  } else console.log(`  folder: ${folder}`);
} catch (error) {
  const e = toPublicError(error);
  console.error(`\n${e.status < 500 ? e.message : String(error)}`);
  status = 1;
} finally {
  await db.$disconnect();
  await database.stop();
}
process.exit(status);
