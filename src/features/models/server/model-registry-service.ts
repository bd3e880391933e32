/**
 * The model registry: ModelVersion rows for what the backends serve. Versions are registered
 * from each backend's `GET /v1/models` (name and version parsed from the served id), so dropping
 * a model into the worker's repository is enough to make it known.
 */
import { z } from 'zod';
import { recordAudit, type Actor } from '~/features/audit/server/audit-service';
import type { Prisma } from '~/generated/prisma/client';
import type { Db } from '~/server/db';
import { DomainError } from '~/server/errors';
import { lineageSchema } from '../lineage';

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

/** What a trainer sends to register the version it built (distill.py's flywheel.json). */
export const registrationSchema = z.object({
  name: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'use letters, digits, ".", "_" and "-"'),
  version: z
    .string()
    .trim()
    .regex(/^\d+(?:\.\d+)*$/, 'a version is digits separated by dots, e.g. "2"'),
  /** The id the backend serves it as (default `<name>/<version>`). */
  backendModel: z.string().trim().min(1).max(200).optional(),
  artifactDigest: z
    .string()
    .trim()
    .regex(/^sha256:[0-9a-f]{64}$/, 'the digest is "sha256:" and 64 hex digits'),
  lineage: lineageSchema,
});
export type Registration = z.input<typeof registrationSchema>;

/**
 * Registers a trained version with its lineage (status `registered`). The row may already
 * exist because the worker listed the folder first: it is completed, not duplicated. The same
 * name and version with another artifact is refused (409): a version names one set of weights.
 */
export async function registerModelVersion(db: Db, actor: Actor, input: unknown) {
  const r = registrationSchema.parse(input);
  const backendModel = r.backendModel ?? `${r.name}/${r.version}`;
  const lineage = r.lineage as Prisma.InputJsonValue;
  return db.$transaction(async (tx) => {
    const before = await tx.modelVersion.findUnique({
      where: { name_version: { name: r.name, version: r.version } },
    });
    if (before?.artifactDigest && before.artifactDigest !== r.artifactDigest)
      throw new DomainError(
        'CONFLICT',
        `${r.name}/${r.version} is already registered with ${before.artifactDigest}; give the new weights a new version`,
      );
    const version = await tx.modelVersion.upsert({
      where: { name_version: { name: r.name, version: r.version } },
      create: {
        name: r.name,
        version: r.version,
        backendModel,
        artifactDigest: r.artifactDigest,
        lineage,
      },
      update: { backendModel, artifactDigest: r.artifactDigest, lineage },
    });
    await recordAudit(tx, actor, {
      action: 'model_version.register',
      entityType: 'model_version',
      entityId: version.id,
      before: before && { artifactDigest: before.artifactDigest, lineage: before.lineage },
      after: { artifactDigest: version.artifactDigest, lineage: version.lineage },
    });
    return version;
  });
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
      lineage: true,
      createdAt: true,
      _count: { select: { generations: true } },
    },
  });
}
