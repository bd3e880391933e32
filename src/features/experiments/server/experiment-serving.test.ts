import { expect, it } from 'vitest';
import { describeOnEachDatabase } from '~/test/databases';
import { assignArm, inHoldout } from '../assignment';
import { actOnExperiment, createExperiment, setHoldout } from './experiments-service';
import { ExperimentServing, armOrder } from './experiment-serving';
import { createGuardrailJob } from './guardrail-job';
import { editor, experimentInput } from './testing/fixtures';

describeOnEachDatabase('experiment serving', ({ db }) => {
  it('serves the arm of the hash, logs one exposure per unit across instances, skips the holdout', async () => {
    const who = await editor(db());
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

  // The closed-loop demo's v2-vs-v1 never left its 50% step: the app's flush timer had ticked once
  // with an empty queue, after which no exposure was ever written, so the job saw 0 units per arm.
  it('writes exposures from its own timer after idle ticks, and the ramp advances on them', async () => {
    const who = await editor(db());
    const input = await experimentInput(db(), {
      guardrails: [],
      ramp: [
        { coverage: 0.5, minDurationMinutes: 0, minUnitsPerArm: 2 },
        { coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 },
      ],
    });
    // A fixed seed and unit ids: the split is then fixed too (with random ones an arm had fewer
    // than 2 of the 16 units about one run in eight).
    const created = await createExperiment(db(), who, { ...input, seed: 'idle-ticks' });
    const running = await actOnExperiment(db(), who, {
      id: created.id,
      expectedVersion: 1,
      action: 'start',
    });
    const serving = new ExperimentServing(db(), { pollMs: 100, flushMs: 20 });
    // A first request on a feature without an experiment starts the timers; they tick idle.
    expect(await serving.resolve(`idle-${created.id}`, 'someone')).toBeNull();
    await new Promise((r) => setTimeout(r, 100));
    // Then 16 writers type (three keystrokes each), as in the demo's quick mode; no manual flush.
    const arms = armOrder(running.arms);
    const expected = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      for (let w = 0; w < 16; w++) {
        const unit = `writer-${w}`;
        const choice = await serving.resolve(input.featureId, unit);
        const index = assignArm({
          seed: running.seed,
          unitId: unit,
          weights: [0.5, 0.5],
          coverage: 0.5,
        });
        expect(choice?.armId ?? null).toBe(index === null ? null : arms[index]!.id);
        if (choice) expected.set(unit, choice.armId);
      }
      await new Promise((r) => setTimeout(r, 60));
    }
    const written = async () => db().assignment.count({ where: { experimentId: created.id } });
    const deadline = Date.now() + 3000;
    while ((await written()) < expected.size && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const rows = await db().assignment.findMany({ where: { experimentId: created.id } });
    expect(rows).toHaveLength(expected.size);
    for (const row of rows) expect(row.armId).toBe(expected.get(row.unitId));
    const perArm = arms.map((a) => rows.filter((r) => r.armId === a.id).length);
    expect(Math.min(...perArm)).toBeGreaterThanOrEqual(2);

    const job = createGuardrailJob({ db: db(), log: () => {} });
    const outcome = (await job.runOnce()).find((o) => o.experimentId === created.id);
    expect(outcome?.action).toBe('advance');
    expect((await db().experiment.findUniqueOrThrow({ where: { id: created.id } })).rampStep).toBe(
      1,
    );
    await serving.stop();
    await actOnExperiment(db(), who, { id: created.id, expectedVersion: 3, action: 'kill' });
  });

  it('a kill reaches a running instance within 5 s (default polling)', async () => {
    const who = await editor(db());
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
