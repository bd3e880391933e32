import { expect, it } from 'vitest';
import { describeOnEachDatabase } from '~/test/databases';
import { readArmData } from './experiment-metrics';
import { actOnExperiment } from './experiments-service';
import { createAndStart, editor, experimentInput } from './testing/fixtures';
import { traffic } from './testing/traffic';
import { foldExperimentQueue } from './unit-rollup';

describeOnEachDatabase('experiment unit rollup', ({ db }) => {
  it('folds each row exactly once, also with folds racing inserts, and equals a full scan', async () => {
    const who = await editor(db());
    const input = await experimentInput(db(), {
      ramp: [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }],
    });
    const { created, started } = await createAndStart(db(), who, input);
    const treatment = started.arms.find((a) => !a.isControl)!;
    const behaviour = { [treatment.modelVersion.label]: { fallback: 0.2, accept: 0.4 } };
    await traffic(db(), input.featureId, 300, behaviour, 501);
    // Folds race each other and new inserts.
    await Promise.all([
      traffic(db(), input.featureId, 300, behaviour, 502),
      foldExperimentQueue(db()),
      foldExperimentQueue(db()),
    ]);
    await Promise.all([foldExperimentQueue(db()), foldExperimentQueue(db())]);
    await traffic(db(), input.featureId, 200, behaviour, 503);
    await foldExperimentQueue(db());

    const rollup = await readArmData(db(), created.id, started.arms, { latency: false });
    const scan = await readArmData(db(), created.id, started.arms, {
      latency: false,
      source: 'scan',
    });
    for (const metric of [
      'fallback_rate',
      'acceptance_rate',
      'dismissal_rate',
      'chars_per_opportunity',
      'arc_per_unit',
    ] as const) {
      for (const [i, arm] of rollup.entries()) {
        expect({ metric, arm: arm.armId, ...arm.metrics[metric] }).toEqual({
          metric,
          arm: arm.armId,
          ...scan[i]!.metrics[metric],
        });
      }
    }
    expect(rollup.map((r) => r.units)).toEqual(scan.map((r) => r.units));
    expect(rollup[0]!.units).toBeGreaterThan(200);

    // The latency threshold was fixed from control's suggestions; slow counts match it exactly.
    const experiment = await db().experiment.findUniqueOrThrow({ where: { id: created.id } });
    expect(experiment.latencyThresholdMs).not.toBeNull();
    for (const arm of rollup) {
      const slow = await db().generation.count({
        where: { armId: arm.armId, latencyMs: { gt: experiment.latencyThresholdMs! } },
      });
      expect(arm.metrics.latency_p95.sumX).toBe(slow);
    }
    const [left] = await db().$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM experiment_fold_queue q JOIN generation g ON q.kind = 'g' AND g.id = q.ref
       WHERE g."experimentId" = $1`,
      created.id,
    );
    expect(left?.n).toBe(0);
    await actOnExperiment(db(), who, {
      id: created.id,
      expectedVersion: started.version,
      action: 'kill',
    });
  });
});
