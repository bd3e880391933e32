import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Prisma } from '~/generated/prisma/client';
import { describeOnEachDatabase } from '~/test/databases';
import { DEFAULT_GUARDRAILS } from '../config';
import { actOnExperiment } from './experiments-service';
import { createGuardrailJob } from './guardrail-job';
import { experimentResults } from './results-service';
import { createAndStart, editor, experimentInput } from './testing/fixtures';
import { traffic } from './testing/traffic';
import { seededRandom } from '../testing/simulate';
import { ExperimentServing } from './experiment-serving';

describeOnEachDatabase('experiment results', ({ db }) => {
  it('reports each arm with intervals, compares with control and ships a better arm', async () => {
    const who = await editor(db());
    const input = await experimentInput(db(), {
      guardrails: DEFAULT_GUARDRAILS.map((g) => ({ ...g, minUnits: 50 })),
      ramp: [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }],
    });
    const { created, started } = await createAndStart(db(), who, input);
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

  it("CUPED with each unit's pre-period acceptance narrows the interval", async () => {
    const who = await editor(db());
    const input = await experimentInput(db(), {
      ramp: [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }],
    });
    const { created, started } = await createAndStart(db(), who, input);
    const random = seededRandom(4242);
    const generations: Prisma.GenerationCreateManyInput[] = [];
    const events: Prisma.FeedbackEventCreateManyInput[] = [];
    const suggest = (
      unitId: string,
      p: number,
      createdAt: Date,
      arm?: { id: string; e: string },
    ) => {
      for (let k = 0; k < 6; k++) {
        const id = randomUUID();
        generations.push({
          id,
          featureId: input.featureId,
          unitId,
          experimentId: arm?.e ?? null,
          armId: arm?.id ?? null,
          tier: 'primary',
          prompt: 'p',
          output: 'o',
          latencyMs: 100,
          createdAt,
        });
        const ts = new Date();
        events.push({
          clientEventId: randomUUID(),
          generationId: id,
          type: 'shown',
          payload: {},
          clientTs: ts,
        });
        if (random() < p)
          events.push({
            clientEventId: randomUUID(),
            generationId: id,
            type: 'accepted',
            payload: {},
            clientTs: ts,
          });
      }
    };
    const serving = new ExperimentServing(db(), { flushMs: 20 });
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
    for (let i = 0; i < 600; i++) {
      const unitId = `cuped-${created.id}-${i}`;
      const p = 0.05 + 0.65 * random(); // each unit has its own propensity
      suggest(unitId, p, threeDaysAgo);
      const arm = (await serving.resolve(input.featureId, unitId))!;
      const isTreatment = arm.armId !== started.arms.find((a) => a.isControl)!.id;
      suggest(unitId, Math.min(1, p + (isTreatment ? 0.05 : 0)), new Date(), {
        id: arm.armId,
        e: created.id,
      });
    }
    await serving.stop();
    await db().generation.createMany({ data: generations });
    await db().feedbackEvent.createMany({ data: events });

    const results = await experimentResults(db(), created.id);
    expect(results.cuped.unitsWithPrePeriod).toBe(600);
    expect(results.cuped.theta).toBeGreaterThan(0.3);
    // Six suggestions per period: the pre-period rate is noisy, ρ² ≈ 0.26 in theory.
    expect(results.cuped.varianceReduction).toBeGreaterThan(0.15);
    const treatment = results.arms.find((a) => !a.isControl)!;
    const adjusted = treatment.metrics.find((m) => m.metric === 'acceptance_cuped')!;
    const raw = treatment.metrics.find((m) => m.metric === 'acceptance_rate')!;
    const width = (ci: [number, number] | null) => (ci ? ci[1] - ci[0] : NaN);
    expect(width(adjusted.deltaCi)).toBeLessThan(width(raw.deltaCi));
    // Near the planted +0.05 (within about four standard errors: the arms depend on a random seed).
    expect(Math.abs(adjusted.delta! - 0.05)).toBeLessThan(width(adjusted.deltaCi));
    console.log(
      `CUPED: θ ${results.cuped.theta.toFixed(2)}, variance −${((results.cuped.varianceReduction ?? 0) * 100).toFixed(0)}%; ` +
        `Δ acceptance raw ${raw.delta?.toFixed(3)} [${raw.deltaCi?.map((x) => x.toFixed(3)).join(', ')}], ` +
        `CUPED ${adjusted.delta?.toFixed(3)} [${adjusted.deltaCi?.map((x) => x.toFixed(3)).join(', ')}] (planted +0.05)`,
    );
    await actOnExperiment(db(), who, {
      id: created.id,
      expectedVersion: results.experiment.version,
      action: 'kill',
    });
  });
});
