// npm run seed:traffic -- --suggestions N [--seed S] [--days D] [--end ISO]
//
// Writes seeded generations and feedback for two demo features (their own Feature, ModelVersion
// and Experiment rows, prefixed "seed-") straight into the tables of DATABASE_URL or the embedded
// database, then folds them into the dashboard rollups. The same seed and --end write the same
// rows, ids included; running it twice stores nothing new.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../src/generated/prisma/client';
import { foldAll } from '../src/features/dashboards/server/rollup-job';
import {
  generateTraffic,
  seededUuid,
  type TrafficTarget,
} from '../src/features/dashboards/server/traffic';
import { applyMigrations } from '../src/server/db/migrations';
import { openDatabase } from '../src/server/db/open-database';
import { loadServerEnv } from '../src/server/env';
import type { Db } from '../src/server/db';

const args = z
  .object({
    suggestions: z.coerce.number().int().min(1).max(20_000_000),
    seed: z.coerce.number().int().min(0).default(1),
    days: z.coerce
      .number()
      .min(1 / 24)
      .max(90)
      .default(7),
    end: z.iso.datetime({ offset: true }).optional(),
  })
  .safeParse(
    parseArgs({
      options: {
        suggestions: { type: 'string' },
        seed: { type: 'string' },
        days: { type: 'string' },
        end: { type: 'string' },
      },
    }).values,
  );
if (!args.success) {
  console.error(
    `Usage: npm run seed:traffic -- --suggestions N [--seed S] [--days D] [--end ISO]\n${z.prettifyError(args.error)}`,
  );
  process.exit(2);
}
const { suggestions, seed, days } = args.data;
const HOUR = 3_600_000;
const end = args.data.end
  ? new Date(args.data.end)
  : new Date(Math.floor(Date.now() / HOUR) * HOUR);

/** Demo features, versions and an experiment, with ids derived from the seed. */
async function ensureTargets(db: Db): Promise<TrafficTarget[]> {
  const version = async (name: string, v: string) =>
    db.modelVersion.upsert({
      where: { name_version: { name, version: v } },
      create: {
        id: seededUuid('seed-version', name, v),
        name,
        version: v,
        backendModel: `${name}-${v}`,
      },
      update: {},
    });
  const [teacher, student1, student2] = [
    await version('seed-teacher', '1'),
    await version('seed-student', '1'),
    await version('seed-student', '2'),
  ];
  for (const [id, task] of [
    ['seed-inline-completion', 'completion'],
    ['seed-rewrite', 'rewrite'],
  ] as const)
    await db.feature.upsert({
      where: { id },
      create: { id, task, config: {}, configHash: 'seed' },
      update: {},
    });
  const experimentId = seededUuid('seed-experiment', seed);
  // Completed, so the guardrail job leaves it alone and the serving path never assigns to it.
  await db.experiment.upsert({
    where: { id: experimentId },
    create: {
      id: experimentId,
      featureId: 'seed-inline-completion',
      name: `Seeded student v1 vs v2 (${seed})`,
      salt: `seed-${seed}`,
      status: 'completed',
      arms: {
        create: [
          {
            id: seededUuid('seed-arm', seed, 0),
            name: 'control',
            isControl: true,
            modelVersionId: student1.id,
            allocationBp: 5000,
          },
          {
            id: seededUuid('seed-arm', seed, 1),
            name: 'treatment',
            modelVersionId: student2.id,
            allocationBp: 5000,
          },
        ],
      },
    },
    update: {},
  });
  return [
    {
      featureId: 'seed-inline-completion',
      variants: [
        {
          modelVersionId: student1.id,
          armId: seededUuid('seed-arm', seed, 0),
          quality: 1,
          speed: 1.4,
        },
        {
          modelVersionId: student2.id,
          armId: seededUuid('seed-arm', seed, 1),
          quality: 1.25,
          speed: 1.3,
        },
        { modelVersionId: teacher.id, quality: 1.4, speed: 0.6 },
      ],
    },
    {
      featureId: 'seed-rewrite',
      variants: [{ modelVersionId: teacher.id, quality: 1.2, speed: 0.4 }],
    },
  ];
}

const env = loadServerEnv();
const database = await openDatabase(env, { ifRunning: 'attach' });
const db = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url, max: 4 }) });
try {
  await applyMigrations(database.url);
  const targets = await ensureTargets(db);
  const chunk = 20_000;
  let written = { generations: 0, events: 0 };
  const started = Date.now();
  const span = days * 24 * HOUR;
  const start = new Date(end.getTime() - span);
  // Chunks are independent slices of the span with their own derived seed, so memory stays flat.
  for (let done = 0; done < suggestions; done += chunk) {
    const n = Math.min(chunk, suggestions - done);
    const traffic = generateTraffic(targets, {
      seed: seed * 1_000_003 + done,
      suggestions: n,
      start: new Date(start.getTime() + (done / suggestions) * span),
      spanMs: (n / suggestions) * span,
    });
    const g = await db.generation.createMany({ data: traffic.generations, skipDuplicates: true });
    const e = await db.feedbackEvent.createMany({
      data: [...traffic.events, ...traffic.late],
      skipDuplicates: true,
    });
    written = { generations: written.generations + g.count, events: written.events + e.count };
    process.stdout.write(`\r${done + n}/${suggestions} suggestions`);
  }
  const folded = await foldAll(db);
  console.log(
    `\nWrote ${written.generations} generations and ${written.events} feedback events ` +
      `(${start.toISOString()} → ${end.toISOString()}, seed ${seed}) in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `folded ${folded} queued rows into the rollups (${database.description}).`,
  );
} finally {
  await db.$disconnect();
  await database.stop();
}
