/** Reads for the console and the public API: datasets, their versions and builds, row previews. */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { FEATURES, type FeatureDeclaration } from '~/features/suggestions/server/feature-registry';
import type { Db } from '~/server/db';
import { NotFoundError } from '~/server/errors';
import type { Split } from '../definition';
import type { DatasetFile } from './dataset-files';
import { versionFolder, type DatasetsOptions, type Manifest } from './datasets-service';

/** Every feature with its training-data setting, as the console shows it. */
export async function listFeaturesForDatasets(db: Db) {
  const rows = await db.feature.findMany({
    select: { id: true, task: true },
    orderBy: { id: 'asc' },
  });
  return rows.map((f) => ({
    ...f,
    trainingData: (FEATURES as Record<string, FeatureDeclaration>)[f.id]?.trainingData === true,
  }));
}

function versionView(v: {
  id: string;
  version: number;
  contentDigest: string;
  rowCount: number;
  watermark: Date | null;
  createdAt: Date;
  manifest: unknown;
}) {
  const m = v.manifest as Manifest;
  return {
    id: v.id,
    version: v.version,
    contentDigest: v.contentDigest,
    rowCount: v.rowCount,
    watermark: v.watermark,
    createdAt: v.createdAt,
    splits: {
      train: { rows: m.splits.train.rows, classes: m.splits.train.classes },
      eval: { rows: m.splits.eval.rows, classes: m.splits.eval.classes },
    },
    gates: m.gates,
  };
}

const buildView = (b: {
  id: string;
  status: string;
  rowsScanned: number;
  error: string | null;
  watermark: Date;
  versionId: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}) => ({
  id: b.id,
  status: b.status,
  rowsScanned: b.rowsScanned,
  error: b.error,
  watermark: b.watermark,
  versionId: b.versionId,
  createdAt: b.createdAt,
  finishedAt: b.finishedAt,
});

export async function listDatasets(db: Db) {
  const rows = await db.dataset.findMany({
    orderBy: { createdAt: 'desc' },
    include: {
      versions: { orderBy: { version: 'desc' }, take: 1 },
      builds: { orderBy: { createdAt: 'desc' }, take: 1 },
    },
  });
  return rows.map((d) => ({
    id: d.id,
    name: d.name,
    description: d.description,
    featureId: d.featureId,
    format: d.format,
    createdAt: d.createdAt,
    latestVersion: d.versions[0] ? versionView(d.versions[0]) : null,
    latestBuild: d.builds[0] ? buildView(d.builds[0]) : null,
  }));
}

export async function getDataset(db: Db, ref: string) {
  const d = await db.dataset.findFirst({
    where: { OR: [{ id: ref }, { name: ref }] },
    include: {
      versions: { orderBy: { version: 'desc' } },
      builds: { orderBy: { createdAt: 'desc' }, take: 20 },
    },
  });
  if (!d) throw new NotFoundError(`Dataset "${ref}"`);
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    format: d.format,
    definition: d.definition,
    createdAt: d.createdAt,
    versions: d.versions.map(versionView),
    builds: d.builds.map(buildView),
  };
}

export async function getBuild(db: Db, buildId: string) {
  const b = await db.datasetBuild.findUnique({ where: { id: buildId } });
  if (!b) throw new NotFoundError(`Dataset build "${buildId}"`);
  return buildView(b);
}

/** The first `limit` rows of a split, read from the version's folder line by line. */
export async function previewVersion(
  db: Db,
  input: { versionId: string; split: Split; limit: number },
  options: DatasetsOptions = {},
) {
  const { dir } = await versionFolder(db, input.versionId, options);
  const rows: unknown[] = [];
  const lines = createInterface({
    input: createReadStream(path.join(dir, `${input.split}.jsonl`)),
  });
  for await (const line of lines) {
    if (rows.length >= input.limit) break;
    if (line) rows.push(JSON.parse(line));
  }
  lines.close();
  return rows;
}

/** Path of one file of a version (rebuilt first if its folder is gone). */
export async function versionFilePath(
  db: Db,
  versionId: string,
  file: DatasetFile,
  options: DatasetsOptions = {},
) {
  const { dir, version } = await versionFolder(db, versionId, options);
  return { path: path.join(dir, file), version };
}
