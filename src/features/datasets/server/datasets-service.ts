/**
 * Datasets: definitions, build requests (run by the dataset job or at once by the CLI), versions
 * with manifest and digest, preview and files. A version row exists only for a build that
 * succeeded; a definition that selects nothing is refused before a build is queued.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { recordAudit, type Actor } from '~/features/audit/server/audit-service';
import { FEATURES, type FeatureDeclaration } from '~/features/suggestions/server/feature-registry';
import type { Prisma } from '~/generated/prisma/client';
import type { Db } from '~/server/db';
import { env } from '~/server/env';
import { DomainError, NotFoundError, toPublicError } from '~/server/errors';
import { datasetCard } from '../card';
import { canonicalJson } from '../canonical';
import {
  DATASET_BUILDER_VERSION,
  datasetDefinitionSchema,
  datasetNameSchema,
  FORMAT_COLUMNS,
  type DatasetDefinition,
  type DatasetDefinitionInput,
} from '../definition';
import {
  buildDataset,
  countCandidates,
  type BuildOptions,
  type BuildResult,
} from './dataset-builder';
import { DEFAULT_DATASETS_DIR, folderExists, openFolderWriter } from './dataset-files';
import { openAiTeacher, TEACHER_COLUMNS, type TeacherScorer } from './teacher-logprobs';

/**
 * Generations are stored through a batching writer with the time they were answered, so the
 * newest seconds may still fill in (a batch is retried for up to 30 s while the database is
 * unreachable): a watermark must lie at least this far in the past, or a row arriving late could
 * change a version already built and its digest. DATASET_WATERMARK_SETTLE_MS, default 2 min; set
 * it shorter only where the writer is known to keep up (the demo's --quick mode on one machine).
 */
export function watermarkSettleMs(options: Pick<DatasetsOptions, 'settleMs'> = {}): number {
  return options.settleMs ?? env().DATASET_WATERMARK_SETTLE_MS;
}

export interface DatasetsOptions {
  dir?: string;
  now?: () => Date;
  /** Generations read so far (the CLI's progress bar; the build row has it too). */
  onProgress?: (scanned: number) => void;
  /** Where a definition's teacher is served (default: the first INFERENCE_BACKENDS, else the worker). */
  teacherBaseUrl?: string;
  /** The settle time in place of DATASET_WATERMARK_SETTLE_MS (tests). */
  settleMs?: number;
}

const dirOf = (o: DatasetsOptions) => o.dir ?? DEFAULT_DATASETS_DIR;

function teacherFor(definition: DatasetDefinition, o: DatasetsOptions): TeacherScorer | undefined {
  if (!definition.teacherLogprobs) return undefined;
  const config = env();
  const baseUrl =
    o.teacherBaseUrl ?? config.INFERENCE_BACKENDS[0] ?? `http://127.0.0.1:${config.WORKER_PORT}`;
  return openAiTeacher({ baseUrl, ...definition.teacherLogprobs });
}

/** Whether a feature lets its users' text become training data (declared in code; off if absent). */
export function trainingDataAllowed(featureId: string): boolean {
  const feature = (FEATURES as Record<string, FeatureDeclaration>)[featureId];
  return feature?.trainingData === true;
}

export function parseDefinition(input: unknown): DatasetDefinition {
  const parsed = datasetDefinitionSchema.safeParse(input);
  if (!parsed.success) throw parsed.error;
  return parsed.data;
}

async function assertFeatureUsable(db: Db, featureId: string) {
  const feature = await db.feature.findUnique({ where: { id: featureId }, select: { id: true } });
  if (!feature) throw new NotFoundError(`Feature "${featureId}"`);
  if (!trainingDataAllowed(featureId))
    throw new DomainError(
      'FORBIDDEN',
      `Feature "${featureId}" does not allow training data (its trainingData setting is off)`,
    );
}

export async function createDataset(
  db: Db,
  actor: Actor,
  input: { name: string; description?: string; definition: DatasetDefinitionInput },
) {
  const name = datasetNameSchema.parse(input.name);
  const definition = parseDefinition(input.definition);
  await assertFeatureUsable(db, definition.featureId);
  return db.$transaction(async (tx) => {
    const dataset = await tx.dataset.create({
      data: {
        name,
        description: input.description ?? '',
        featureId: definition.featureId,
        format: definition.format,
        definition: definition,
        createdById: actor.userId,
      },
    });
    await recordAudit(tx, actor, {
      action: 'dataset.create',
      entityType: 'dataset',
      entityId: dataset.id,
      after: { name: dataset.name, definition },
    });
    return dataset;
  });
}

async function findDataset(db: Db, ref: string) {
  const dataset = await db.dataset.findFirst({ where: { OR: [{ id: ref }, { name: ref }] } });
  if (!dataset) throw new NotFoundError(`Dataset "${ref}"`);
  return dataset;
}

/** Queues a build at `watermark` (default: now less the settle time); 4xx if it selects nothing. */
export async function requestBuild(
  db: Db,
  actor: Actor,
  input: { dataset: string; watermark?: string | Date },
  options: DatasetsOptions = {},
) {
  const now = (options.now ?? (() => new Date()))();
  const dataset = await findDataset(db, input.dataset);
  const definition = parseDefinition(dataset.definition);
  await assertFeatureUsable(db, definition.featureId);
  const settleMs = watermarkSettleMs(options);
  const latest = new Date(now.getTime() - settleMs);
  const watermark = input.watermark ? new Date(input.watermark) : latest;
  if (Number.isNaN(watermark.getTime()))
    throw new DomainError('BAD_REQUEST', 'The watermark is not a date');
  if (watermark > latest)
    throw new DomainError(
      'BAD_REQUEST',
      `The watermark must be at least ${settleMs / 1000} s in the past (at most ${latest.toISOString()}), so that no late row can change the version`,
    );
  if ((await countCandidates(db, definition, watermark)) === 0)
    throw new DomainError(
      'BAD_REQUEST',
      `Dataset "${dataset.name}" selects no generations up to ${watermark.toISOString()}: check its feature, model versions, time window and tier`,
    );
  const build = await db.datasetBuild.create({
    data: { datasetId: dataset.id, watermark, createdById: actor.userId },
  });
  return build;
}

export interface Manifest {
  schema: 'flywheel.dataset/v1';
  dataset: string;
  version: number;
  format: DatasetDefinition['format'];
  columns: readonly string[];
  definition: DatasetDefinition;
  watermark: string;
  code: { builderVersion: number };
  scanned: number;
  splits: BuildResult['splits'];
  gates: BuildResult['gates'];
  contentDigest: string;
  /** The teacher whose top-k logprobs the rows carry (the digest is reproducible given it). */
  teacher?: { model: string; k: number; digest: string | null };
}

function manifestOf(
  dataset: { name: string },
  version: number,
  definition: DatasetDefinition,
  watermark: Date,
  result: BuildResult,
  teacher?: Manifest['teacher'],
): Manifest {
  return {
    schema: 'flywheel.dataset/v1',
    dataset: dataset.name,
    version,
    format: definition.format,
    columns: [...FORMAT_COLUMNS[definition.format], ...(teacher ? TEACHER_COLUMNS : [])],
    definition,
    watermark: watermark.toISOString(),
    code: { builderVersion: DATASET_BUILDER_VERSION },
    scanned: result.scanned,
    splits: result.splits,
    gates: result.gates,
    contentDigest: result.contentDigest,
    ...(teacher ? { teacher } : {}),
  };
}

function cardOf(manifest: Manifest) {
  const classes: Record<string, number> = {};
  for (const split of [manifest.splits.train, manifest.splits.eval])
    for (const [k, v] of Object.entries(split.classes)) classes[k] = (classes[k] ?? 0) + v;
  return datasetCard({
    name: manifest.dataset,
    version: manifest.version,
    format: manifest.format,
    featureId: manifest.definition.featureId,
    watermark: manifest.watermark,
    contentDigest: manifest.contentDigest,
    rows: { train: manifest.splits.train.rows, eval: manifest.splits.eval.rows },
    classes,
    gates: manifest.gates,
  });
}

/** Writes a version's folder: streams rows into a temporary folder, then renames it into place. */
async function writeFolder(
  db: Db,
  root: string,
  tag: string,
  finalDir: string,
  make: (result: BuildResult) => Manifest,
  build: Omit<BuildOptions, 'sink'>,
) {
  const writer = await openFolderWriter(root, tag);
  try {
    const result = await buildDataset(db, { ...build, sink: writer });
    const manifest = make(result);
    await writer.commit(
      { manifest: `${canonicalJson(manifest)}\n`, readme: cardOf(manifest) },
      finalDir,
    );
    return { result, manifest };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** Runs one build: files first, then the version row; a failure marks the build, no version. */
export async function runBuild(db: Db, buildId: string, options: DatasetsOptions = {}) {
  const build = await db.datasetBuild.findUniqueOrThrow({
    where: { id: buildId },
    include: { dataset: true },
  });
  const root = dirOf(options);
  const versionId = randomUUID();
  await db.datasetBuild.update({
    where: { id: buildId },
    data: { status: 'running', startedAt: new Date(), error: null },
  });
  try {
    const definition = parseDefinition(build.dataset.definition);
    // Builds of one dataset run one at a time (the job claims so); the unique key guards the rest.
    const last = await db.datasetVersion.aggregate({
      where: { datasetId: build.datasetId },
      _max: { version: true },
    });
    const number = (last._max.version ?? 0) + 1;
    const teacher = teacherFor(definition, options);
    const identity = await teacher?.identity();
    const { manifest } = await writeFolder(
      db,
      root,
      buildId,
      path.join(root, versionId),
      (result) => manifestOf(build.dataset, number, definition, build.watermark, result, identity),
      {
        definition,
        watermark: build.watermark,
        teacher,
        onProgress: async (scanned) => {
          options.onProgress?.(scanned);
          await db.datasetBuild.update({ where: { id: buildId }, data: { rowsScanned: scanned } });
        },
      },
    );
    return await db.$transaction(async (tx) => {
      const version = await tx.datasetVersion.create({
        data: {
          id: versionId,
          datasetId: build.datasetId,
          version: number,
          query: definition,
          seed: definition.seed,
          manifest: manifest as unknown as Prisma.InputJsonValue,
          contentDigest: manifest.contentDigest,
          rowCount: manifest.splits.train.rows + manifest.splits.eval.rows,
          watermark: build.watermark,
        },
      });
      await tx.datasetBuild.update({
        where: { id: buildId },
        data: { status: 'succeeded', finishedAt: new Date(), versionId: version.id },
      });
      return version;
    });
  } catch (error) {
    // No version row: its folder (if the files were written) must not linger either.
    await rm(path.join(root, versionId), { recursive: true, force: true }).catch(() => undefined);
    const message =
      error instanceof DomainError
        ? error.message
        : (toPublicError(error).status === 409 &&
            'Another build of this dataset took the same version number; build again') ||
          'The build failed; see the server log';
    if (!(error instanceof DomainError)) console.error(`Dataset build ${buildId} failed:`, error);
    await db.datasetBuild.update({
      where: { id: buildId },
      data: { status: 'failed', finishedAt: new Date(), error: message },
    });
    throw error;
  }
}

/** Request and run at once (CLI, tests); the job runs queued builds the same way. */
export async function buildNow(
  db: Db,
  actor: Actor,
  input: { dataset: string; watermark?: string | Date },
  options: DatasetsOptions = {},
) {
  const build = await requestBuild(db, actor, input, options);
  return runBuild(db, build.id, options);
}

/** The folder of a version, rebuilt from its definition and watermark when it is missing. */
export async function versionFolder(db: Db, versionId: string, options: DatasetsOptions = {}) {
  const version = await db.datasetVersion.findUnique({
    where: { id: versionId },
    include: { dataset: true },
  });
  if (!version) throw new NotFoundError(`Dataset version "${versionId}"`);
  const root = dirOf(options);
  const dir = path.join(root, version.id);
  if (await folderExists(dir)) return { version, dir };
  const manifest = version.manifest as unknown as Manifest;
  const definition = parseDefinition(version.query);
  await writeFolder(
    db,
    root,
    `rebuild-${version.id}`,
    dir,
    (result) => {
      if (result.contentDigest !== version.contentDigest)
        throw new DomainError(
          'CONFLICT',
          `Rebuilding ${version.dataset.name} v${version.version} gave digest ${result.contentDigest}, not ${version.contentDigest}: the rows up to its watermark changed`,
        );
      return manifest;
    },
    {
      definition,
      watermark: new Date(manifest.watermark),
      teacher: teacherFor(definition, options),
    },
  );
  return { version, dir };
}
