import { expect, it } from 'vitest';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { assignArm, inHoldout } from '../assignment';
import { actOnExperiment, createExperiment, setHoldout } from './experiments-service';
import { ExperimentServing, armOrder } from './experiment-serving';
import { experimentInput } from './testing/fixtures';

describeOnEachDatabase('experiment serving', ({ db }) => {
  const actor = async () => ({
    type: 'user' as const,
    userId: (await makeUser(db(), 'editor')).id,
  });

  it('serves the arm of the hash, logs one exposure per unit across instances, skips the holdout', async () => {
    const who = await actor();
    const input = await experimentInput(db(), {
      ramp: [{ coverage: 0.6, minDurationMinutes: 0, minUnitsPerArm: 0 }],
    });
    await setHoldout(db(), who, { featureId: input.featureId, share: 0.1 });
    const created = await createExperiment(db(), who, input);
    const running = await actOnExperiment(db(), who, {
      id: created.id,
      expectedVersion: 1,
      action: 'start',
    });
    const a = new ExperimentServing(db(), { pollMs: 100, flushMs: 20, batchSize: 100 });
    const b = new ExperimentServing(db(), { pollMs: 100, flushMs: 20, batchSize: 100 });
    const arms = armOrder(running.arms);
    const units = Array.from({ length: 1500 }, (_, i) => `serve-${created.id}-${i}`);
    const expected = new Map<string, string | null>();
    for (const unit of units) {
      const held = inHoldout(input.featureId, unit, 0.1);
      const index = held
        ? null
        : assignArm({ seed: running.seed, unitId: unit, weights: [0.5, 0.5], coverage: 0.6 });
      expected.set(unit, index === null ? null : arms[index]!.id);
    }
    // Every unit asks several times (keystrokes), through both instances.
    for (let round = 0; round < 3; round++) {
      for (const unit of units) {
        for (const serving of [a, b]) {
          const choice = await serving.resolve(input.featureId, unit);
          expect(choice?.armId ?? null).toBe(expected.get(unit));
          if (choice) {
            const arm = running.arms.find((x) => x.id === choice.armId)!;
            expect(choice.model).toMatchObject({
              id: arm.modelVersion.id,
              label: arm.modelVersion.label,
            });
            expect(choice.experimentId).toBe(created.id);
          }
        }
      }
    }
    await Promise.all([a.flush(), b.flush()]);
    const rows = await db().assignment.findMany({ where: { experimentId: created.id } });
    const exposed = [...expected].filter(([, arm]) => arm !== null);
    expect(rows).toHaveLength(exposed.length);
    for (const row of rows) expect(row.armId).toBe(expected.get(row.unitId));
    const held = units.filter((u) => inHoldout(input.featureId, u, 0.1)).length;
    console.log(
      `serving: ${units.length} units × 3 rounds × 2 instances → ${rows.length} exposure rows (${held} held out, ${units.length - held - rows.length} outside coverage)`,
    );
    await a.stop();
    await b.stop();
    await actOnExperiment(db(), who, { id: created.id, expectedVersion: 2, action: 'kill' });
  });

  it('a kill reaches a running instance within 5 s (default polling)', async () => {
    const who = await actor();
    const input = await experimentInput(db(), {
      ramp: [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }],
    });
    const created = await createExperiment(db(), who, input);
    await actOnExperiment(db(), who, { id: created.id, expectedVersion: 1, action: 'start' });
    const serving = new ExperimentServing(db());
    expect(await serving.resolve(input.featureId, 'unit-kill')).not.toBeNull();
    const killedAt = Date.now();
    await actOnExperiment(db(), who, { id: created.id, expectedVersion: 2, action: 'kill' });
    let elapsed = 0;
    while ((await serving.resolve(input.featureId, 'unit-kill')) !== null) {
      elapsed = Date.now() - killedAt;
      if (elapsed > 10_000) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    elapsed = Date.now() - killedAt;
    console.log(`serving: kill seen by the instance after ${elapsed} ms`);
    expect(elapsed).toBeLessThan(5000);
    await serving.stop();
  });

  it('never throws: a broken database means the default answers', async () => {
    const broken = {
      $queryRawUnsafe: () => Promise.reject(new Error('database down')),
    } as unknown as ConstructorParameters<typeof ExperimentServing>[0];
    const logs: string[] = [];
    const serving = new ExperimentServing(broken, { log: (m) => logs.push(m) });
    expect(await serving.resolve('inline-completion', 'u')).toBeNull();
    expect(logs[0]).toContain('database down');
    await serving.stop();
  });
});
