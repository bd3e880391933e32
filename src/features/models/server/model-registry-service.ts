/**
 * The model registry: ModelVersion rows for what the backends serve. Versions are registered
 * from each backend's `GET /v1/models` (name and version parsed from the served id), so dropping
 * a model into the worker's repository is enough to make it known.
 */
import type { Db } from '~/server/db';

export interface ServedModelId {
  id: string;
  /** The versioned id an alias points at (vLLM and our worker send it); null when unknown. */
  root: string | null;
}

/** `flywheel-teacher/1` or `flywheel-teacher:1` → name + version; anything else is version "1". */
export function parseModelId(id: string): { name: string; version: string } {
  const m = /^(.+)[/:](\d+(?:\.\d+)*)$/.exec(id);
  if (m?.[1] && m[2]) return { name: m[1], version: m[2] };
  return { name: id, version: '1' };
}

/** Served ids that are versions of their own (aliases such as `flywheel-teacher` are skipped). */
export function canonicalIds(served: ServedModelId[]): string[] {
  const ids = new Set<string>();
  for (const m of served) if (m.root === null || m.root === m.id) ids.add(m.id);
  return [...ids].sort();
}

/** Upserts a ModelVersion per canonical served id; returns the ids registered. */
export async function registerServedModels(db: Db, served: ServedModelId[]): Promise<string[]> {
  const ids = canonicalIds(served);
  for (const id of ids) {
    const { name, version } = parseModelId(id);
    await db.modelVersion.upsert({
      where: { name_version: { name, version } },
      create: { name, version, backendModel: id },
      update: { backendModel: id },
    });
  }
  return ids;
}

export async function listModelVersions(db: Db) {
  return db.modelVersion.findMany({
    orderBy: [{ name: 'asc' }, { version: 'desc' }],
    select: {
      id: true,
      name: true,
      version: true,
      backendModel: true,
      backend: true,
      status: true,
      artifactDigest: true,
      createdAt: true,
      _count: { select: { generations: true } },
    },
  });
}
