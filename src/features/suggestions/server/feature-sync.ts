/**
 * Mirrors the features declared in code to the Feature table (reports and foreign keys need the
 * rows) and, where a feature has no default model version yet (or a retired one), points it at the
 * newest registered version of the first model in its fallback chain. A default someone chose (a
 * promotion, the console) is never overwritten here.
 */
import type { Prisma } from '~/generated/prisma/client';
import type { Db } from '~/server/db';
import {
  chainModels,
  FEATURES,
  featureConfig,
  featureConfigHash,
  type FeatureDeclaration,
} from './feature-registry';
import type { ModelCatalog } from './model-catalog';

export async function syncFeatures(db: Db, catalog?: ModelCatalog): Promise<void> {
  for (const feature of Object.values(FEATURES) as FeatureDeclaration[]) {
    const first = chainModels(feature)[0];
    const model = first && catalog ? await catalog.resolve(first) : null;
    const data = {
      task: feature.task,
      description: feature.description,
      config: featureConfig(feature) as unknown as Prisma.InputJsonValue,
      configHash: featureConfigHash(feature),
    };
    const defaultModelVersionId = model?.id ?? undefined;
    await db.feature.upsert({
      where: { id: feature.id },
      create: { id: feature.id, ...data, defaultModelVersionId },
      update: data,
    });
    if (defaultModelVersionId)
      await db.feature.updateMany({
        where: {
          id: feature.id,
          OR: [{ defaultModelVersionId: null }, { defaultModelVersion: { status: 'retired' } }],
        },
        data: { defaultModelVersionId },
      });
  }
}

const synced = new WeakMap<Db, Promise<void>>();
/** Once per database client: the rows a Generation refers to exist (also without a server start). */
export function ensureFeatures(db: Db): Promise<void> {
  let done = synced.get(db);
  if (!done) {
    done = syncFeatures(db).catch((error: unknown) => {
      synced.delete(db);
      throw error;
    });
    synced.set(db, done);
  }
  return done;
}
