/**
 * Per-feature serving settings: the default model version (what every unit outside an experiment
 * is served; a promotion sets it too) and the holdout (units no experiment on the feature touches).
 * Each change is audited in its transaction.
 */
import { recordAudit, type Actor } from '~/features/audit/server/audit-service';
import { modelVersionLabel } from '~/features/models/model-label';
import { ensureFeatures } from '~/features/suggestions/server/feature-sync';
import type { Db } from '~/server/db';
import { NotFoundError } from '~/server/errors';
import { defaultVersionInput, holdoutInput, type DefaultVersionInput } from '../config';
import { LIVE } from './experiment-view';
import { bad, type Tx } from './experiment-store';

export interface FeatureSetting {
  featureId: string;
  /** Share of units held out of every experiment (0..0.5). */
  share: number;
  /** Served to units outside experiments; null: the first model of the fallback chain. */
  defaultVersion: { id: string; label: string; status: string } | null;
  /** The last audited change of the default (null: set by the mirror of the features). */
  defaultChange?: { at: Date; by: string; via: string | null } | null;
}

const versionSelect = { id: true, name: true, version: true, status: true } as const;
const describe = (v: { id: string; name: string; version: string; status: string }) => ({
  id: v.id,
  label: modelVersionLabel(v),
  status: v.status,
});

/**
 * Points the feature's default at `versionId` and audits it (`feature.set_default_version`);
 * `via` says what did it (a promotion). The version must exist and not be retired.
 */
export async function applyDefaultVersion(
  tx: Tx,
  actor: Actor,
  change: { featureId: string; versionId: string; via?: string },
): Promise<FeatureSetting> {
  const feature = await tx.feature.findUnique({
    where: { id: change.featureId },
    include: { defaultModelVersion: { select: versionSelect } },
  });
  if (!feature) throw new NotFoundError(`Feature "${change.featureId}"`);
  const version = await tx.modelVersion.findUnique({
    where: { id: change.versionId },
    select: versionSelect,
  });
  if (!version) throw bad(`Model version ${change.versionId} is not registered`);
  if (version.status === 'retired')
    throw bad(`Model version ${modelVersionLabel(version)} is retired; pick a live one`);
  await tx.feature.update({
    where: { id: change.featureId },
    data: { defaultModelVersionId: version.id },
  });
  const before = feature.defaultModelVersion ? describe(feature.defaultModelVersion) : null;
  await recordAudit(tx, actor, {
    action: 'feature.set_default_version',
    entityType: 'feature',
    entityId: change.featureId,
    before: { defaultVersion: before?.label ?? null },
    after: {
      defaultVersion: modelVersionLabel(version),
      ...(change.via ? { via: change.via } : {}),
    },
  });
  return {
    featureId: feature.id,
    share: feature.holdoutBp / 10_000,
    defaultVersion: describe(version),
  };
}

/** The console's and the API's change of a feature's default version. */
export async function setDefaultVersion(
  db: Db,
  actor: Actor,
  raw: DefaultVersionInput,
): Promise<FeatureSetting> {
  const input = defaultVersionInput.parse(raw);
  await ensureFeatures(db);
  return db.$transaction((tx) =>
    applyDefaultVersion(tx, actor, { featureId: input.featureId, versionId: input.modelVersionId }),
  );
}

export async function setHoldout(
  db: Db,
  actor: Actor,
  raw: { featureId: string; share: number },
): Promise<{ featureId: string; share: number }> {
  const input = holdoutInput.parse(raw);
  await ensureFeatures(db);
  return db.$transaction(async (tx) => {
    const feature = await tx.feature.findUnique({ where: { id: input.featureId } });
    if (!feature) throw new NotFoundError(`Feature "${input.featureId}"`);
    const live = await tx.experiment.findFirst({
      where: { featureId: input.featureId, status: { in: LIVE } },
      select: { name: true },
    });
    const holdoutBp = Math.round(input.share * 10_000);
    if (live && holdoutBp !== feature.holdoutBp)
      throw bad(
        `The holdout cannot change while "${live.name}" is live on this feature (units would leave or join it)`,
      );
    await tx.feature.update({ where: { id: input.featureId }, data: { holdoutBp } });
    await recordAudit(tx, actor, {
      action: 'feature.set_holdout',
      entityType: 'feature',
      entityId: input.featureId,
      before: { holdout: feature.holdoutBp / 10_000 },
      after: { holdout: holdoutBp / 10_000 },
    });
    return { featureId: input.featureId, share: holdoutBp / 10_000 };
  });
}

/** Every feature's holdout and default version, with who changed the default last. */
export async function listFeatureSettings(db: Db): Promise<FeatureSetting[]> {
  await ensureFeatures(db);
  const [rows, changes] = await Promise.all([
    db.feature.findMany({
      select: { id: true, holdoutBp: true, defaultModelVersion: { select: versionSelect } },
      orderBy: { id: 'asc' },
    }),
    db.auditLog.findMany({
      where: { entityType: 'feature', action: 'feature.set_default_version' },
      orderBy: { createdAt: 'desc' },
      distinct: ['entityId'],
      select: {
        entityId: true,
        createdAt: true,
        actorType: true,
        actor: { select: { email: true } },
        after: true,
      },
    }),
  ]);
  const lastChange = new Map(changes.map((c) => [c.entityId, c]));
  return rows.map((r) => {
    const change = lastChange.get(r.id);
    const via = (change?.after as { via?: unknown } | null | undefined)?.via;
    return {
      featureId: r.id,
      share: r.holdoutBp / 10_000,
      defaultVersion: r.defaultModelVersion ? describe(r.defaultModelVersion) : null,
      defaultChange: change
        ? {
            at: change.createdAt,
            by:
              change.actor?.email ??
              (change.actorType === 'api_key' ? 'an API key' : change.actorType),
            via: typeof via === 'string' ? via : null,
          }
        : null,
    };
  });
}
