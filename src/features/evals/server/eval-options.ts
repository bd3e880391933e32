/** What the console's form offers: model versions and dataset versions with an eval split. */
import { listDatasets } from '~/features/datasets/server/datasets-queries';
import { FEATURE_IDS } from '~/features/suggestions/server/feature-registry';
import type { Db } from '~/server/db';
import { modelVersionLabel } from '~/features/models/model-label';

export async function evalOptions(db: Db) {
  const [models, datasets] = await Promise.all([
    db.modelVersion.findMany({
      where: { status: { not: 'retired' } },
      select: { id: true, name: true, version: true },
      orderBy: [{ name: 'asc' }, { version: 'asc' }],
    }),
    listDatasets(db),
  ]);
  return {
    models: models.map((m) => ({ id: m.id, label: modelVersionLabel(m) })),
    datasets: datasets.flatMap((d) =>
      d.latestVersion && d.latestVersion.splits.eval.rows > 0 && d.format !== 'prompt-only'
        ? [
            {
              ref: `${d.name}@${d.latestVersion.version}`,
              evalRows: d.latestVersion.splits.eval.rows,
            },
          ]
        : [],
    ),
    features: FEATURE_IDS,
  };
}
