import { expect, it } from 'vitest';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { DEFAULT_GUARDRAILS } from '../config';
import { actOnExperiment, createExperiment } from './experiments-service';
import { createGuardrailJob } from './guardrail-job';
import { experimentResults } from './results-service';
import { experimentInput } from './testing/fixtures';
import { traffic } from './testing/traffic';

describeOnEachDatabase('experiment results', ({ db }) => {
  it('reports each arm with intervals, compares with control and ships a better arm', async () => {
    const who = { type: 'user' as const, userId: (await makeUser(db(), 'editor')).id };
    const input = await experimentInput(db(), {
      guardrails: DEFAULT_GUARDRAILS.map((g) => ({ ...g, minUnits: 50 })),
      ramp: [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }],
    });
    const created = await createExperiment(db(), who, input);
    const started = await actOnExperiment(db(), who, {
      id: created.id,
      expectedVersion: 1,
      action: 'start',
    });
    const treatment = started.arms.find((a) => !a.isControl)!;
    await traffic(
      db(),
      input.featureId,
      1600,
      { [treatment.modelVersion.label]: { fallback: 0.05, accept: 0.5, retained: 14 } },
      77,
    );
    await createGuardrailJob({ db: db(), log: () => {} }).runOnce();

    const results = await experimentResults(db(), created.id);
    const [control, arm] = results.arms;
    expect(control).toMatchObject({ name: 'control', isControl: true });
    expect(control!.exposures).toBeGreaterThan(600);
    expect(control!.units).toBe(control!.exposures);
    const metric = (a: typeof control, name: string) => a!.metrics.find((m) => m.metric === name)!;

    // Control's acceptance equals accepted/shown counted directly, inside its interval.
    const shown = await db().feedbackEvent.count({
      where: { type: 'shown', generation: { armId: control!.armId } },
    });
    const accepted = await db().feedbackEvent.count({
      where: { type: 'accepted', generation: { armId: control!.armId } },
    });
    const acceptance = metric(control, 'acceptance_rate');
    expect(acceptance.value).toBeCloseTo(accepted / shown, 10);
    expect(acceptance.ci![0]).toBeLessThan(acceptance.value!);
    expect(acceptance.ci![1]).toBeGreaterThan(acceptance.value!);
    expect(acceptance.value).toBeGreaterThan(0.25);
    expect(acceptance.value).toBeLessThan(0.35);

    const better = metric(arm, 'acceptance_rate');
    expect(better.delta).toBeGreaterThan(0.1);
    expect(better.deltaCi![0]).toBeGreaterThan(0);
    expect(better.adjustedP).toBeLessThan(0.05);
    expect(better.adjustedP).toBeGreaterThanOrEqual(better.pValue!);
    expect(metric(arm, 'arc_per_unit').delta).toBeGreaterThan(0);
    expect(metric(control, 'fallback_rate').value).toBeLessThan(0.12);
    expect(control!.latencyP95).toBeGreaterThan(control!.latencyP50!);
    expect(results.verdict).toMatchObject({ decision: 'ship' });
    console.log(
      `results: control acceptance ${acceptance.value?.toFixed(3)} [${acceptance.ci?.map((x) => x.toFixed(3)).join(', ')}], ` +
        `treatment Δ ${better.delta?.toFixed(3)} [${better.deltaCi?.map((x) => x.toFixed(3)).join(', ')}], Holm p ${better.adjustedP?.toExponential(2)}; verdict: ${results.verdict.decision} — ${results.verdict.why}`,
    );
    await actOnExperiment(db(), who, {
      id: created.id,
      expectedVersion: results.experiment.version,
      action: 'kill',
    });
  });
});
