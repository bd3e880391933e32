import { expect, it } from 'vitest';
import { describeOnEachDatabase } from '~/test/databases';
import { DEFAULT_GUARDRAILS } from '../config';
import { ExperimentServing } from './experiment-serving';
import { actOnExperiment, createExperiment, getExperiment } from './experiments-service';
import { createGuardrailJob } from './guardrail-job';
import { createAndStart, editor, experimentInput } from './testing/fixtures';
import { traffic } from './testing/traffic';

describeOnEachDatabase('guardrail job', ({ db }) => {
  const guardrails = DEFAULT_GUARDRAILS.map((g) => ({ ...g, minUnits: 50 }));

  it('rolls back a treatment whose backend falls back, with a system audit entry', async () => {
    const who = await editor(db());
    const input = await experimentInput(db(), {
      guardrails,
      ramp: [
        { coverage: 0.5, minDurationMinutes: 0, minUnitsPerArm: 50 },
        { coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 },
      ],
    });
    const { created, started } = await createAndStart(db(), who, input);
    const treatment = started.arms.find((a) => !a.isControl)!;
    await traffic(
      db(),
      input.featureId,
      600,
      { [treatment.modelVersion.label]: { fallback: 0.6, accept: 0.3 } },
      1,
    );

    const job = createGuardrailJob({ db: db(), log: () => {} });
    const outcomes = (await job.runOnce()).filter((o) => o.experimentId === created.id);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]!.action).toBe('rollback');
    const after = await getExperiment(db(), created.id);
    expect(after).toMatchObject({
      status: 'rolled_back',
      coverage: 0,
      version: started.version + 1,
    });
    expect(after.statusReason).toContain('Fallback or error rate');
    const audit = await db().auditLog.findFirstOrThrow({
      where: { entityId: created.id, action: 'experiment.rollback' },
    });
    expect(audit).toMatchObject({ actorType: 'system', actorId: null });
    expect(audit.after).toMatchObject({
      status: 'rolled_back',
      metric: 'fallback_rate',
      estimate: expect.any(Number),
      bound: expect.any(Number),
      nControl: expect.any(Number),
      nTreatment: expect.any(Number),
    });
    const detail = audit.after as { estimate: number; bound: number };
    console.log(
      `guardrail job: rolled back with estimate ${detail.estimate.toFixed(3)}, bound ${detail.bound.toFixed(3)}`,
    );
    expect(detail.bound).toBeGreaterThan(0);
    // A rolled-back experiment is no longer served.
    const serving = new ExperimentServing(db());
    expect(await serving.resolve(input.featureId, 'gj-1-0')).toBeNull();
    await serving.stop();
  });

  it('ramps a healthy experiment, once per interval, with one instance doing each check', async () => {
    const who = await editor(db());
    const input = await experimentInput(db(), {
      guardrails,
      ramp: [
        { coverage: 0.5, minDurationMinutes: 0, minUnitsPerArm: 50 },
        { coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 },
      ],
    });
    const { created, started } = await createAndStart(db(), who, input);
    await traffic(db(), input.featureId, 600, {}, 2);

    const jobs = [1, 2, 3].map(() => createGuardrailJob({ db: db(), log: () => {} }));
    const outcomes = (await Promise.all(jobs.map((j) => j.runOnce())))
      .flat()
      .filter((o) => o.experimentId === created.id);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]!.action).toBe('advance');
    expect(outcomes[0]!.evaluation.checks.every((c) => c.status === 'ok')).toBe(true);
    const after = await getExperiment(db(), created.id);
    expect(after).toMatchObject({
      status: 'running',
      rampStep: 1,
      coverage: 1,
      version: started.version + 1,
    });
    expect(after.lastCheckedAt).not.toBeNull();
    // Checked again only after the interval.
    expect((await jobs[0]!.runOnce()).filter((o) => o.experimentId === created.id)).toHaveLength(0);
    const later = createGuardrailJob({
      db: db(),
      log: () => {},
      now: () => new Date(Date.now() + 61_000),
    });
    const again = (await later.runOnce()).filter((o) => o.experimentId === created.id);
    expect(again).toHaveLength(1);
    expect(again[0]!.action).toBe('none'); // at the last step
    const audit = await db().auditLog.findFirstOrThrow({
      where: { entityId: created.id, action: 'experiment.ramp' },
    });
    expect(audit).toMatchObject({
      actorType: 'system',
      before: expect.objectContaining({ rampStep: 0 }),
    });
    await actOnExperiment(db(), who, {
      id: created.id,
      expectedVersion: after.version,
      action: 'kill',
    });
  });

  it('checks an experiment while suggestions and exposures are being written for it', async () => {
    // Every Generation and exposure insert FK-checks its experiment row (FOR KEY SHARE) until it
    // commits; under steady traffic one is nearly always open. The claim must not skip the row
    // for that (a FOR UPDATE claim did, so a busy experiment could go unchecked round after round).
    const who = await editor(db());
    const input = await experimentInput(db(), { guardrails });
    const { created, started } = await createAndStart(db(), who, input);
    const arm = started.arms[0]!;
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted = () => {};
    const insertedOnce = new Promise<void>((resolve) => (inserted = resolve));
    const writer = db().$transaction(
      async (tx) => {
        await tx.assignment.create({
          data: {
            experimentId: created.id,
            armId: arm.id,
            unitId: `in-flight-${created.id}`,
            configVersion: started.version,
          },
        });
        inserted();
        await held; // the insert's transaction stays open while the job runs
      },
      { timeout: 30_000 },
    );
    try {
      await insertedOnce;
      const job = createGuardrailJob({ db: db(), log: () => {} });
      const outcome = (await job.runOnce()).find((o) => o.experimentId === created.id);
      expect(outcome?.action).toBe('none');
      expect((await getExperiment(db(), created.id)).lastCheckedAt).not.toBeNull();
    } finally {
      release();
      await writer;
    }
    await actOnExperiment(db(), who, {
      id: created.id,
      expectedVersion: started.version,
      action: 'kill',
    });
  });

  it("tests with each experiment's N*: a small experiment is judged at its own sample size", async () => {
    // 8 units per arm, 20 suggestions each; control falls back 10–50% per unit (a loaded
    // machine missing its budget), the treatment always. With GrowthBook's N* 5000 the sequence
    // is far too wide at 16 units to call it; with N* 300 the job rolls it back.
    const who = await editor(db());
    const controlFallbacks = [2, 8, 4, 10, 6, 3, 9, 5];
    const outcomes: Record<number, string | undefined> = {};
    for (const sequentialTuning of [5000, 300]) {
      const input = await experimentInput(db(), {
        guardrails: [{ metric: 'fallback_rate', margin: 0.02, minUnits: 4 }],
        ramp: [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }],
        sequentialTuning,
      });
      const created = await createExperiment(db(), who, input);
      expect(created.sequentialTuning).toBe(sequentialTuning);
      const started = await actOnExperiment(db(), who, {
        id: created.id,
        expectedVersion: 1,
        action: 'start',
      });
      const rows = started.arms.flatMap((arm) =>
        controlFallbacks.flatMap((fallbacks, u) =>
          Array.from({ length: 20 }, (_, k) => ({
            featureId: input.featureId,
            unitId: `tuning-${created.id}-${arm.name}-${u}`,
            modelVersionId: arm.modelVersion.id,
            experimentId: created.id,
            armId: arm.id,
            tier: arm.isControl && k >= fallbacks ? ('primary' as const) : ('ngram' as const),
            prompt: 'p',
            output: 'o',
            latencyMs: 100,
          })),
        ),
      );
      await db().generation.createMany({ data: rows });
      const job = createGuardrailJob({ db: db(), log: () => {} });
      const outcome = (await job.runOnce()).find((o) => o.experimentId === created.id);
      outcomes[sequentialTuning] = outcome?.action;
      const check = outcome?.evaluation.checks[0];
      console.log(
        `N* ${sequentialTuning}: estimate ${check?.estimate?.toFixed(3)}, bound ${check?.bound?.toFixed(3)} → ${outcome?.action}`,
      );
      const now = await getExperiment(db(), created.id);
      if (now.status === 'running')
        await actOnExperiment(db(), who, {
          id: created.id,
          expectedVersion: now.version,
          action: 'kill',
        });
    }
    expect(outcomes).toEqual({ 5000: 'none', 300: 'rollback' });
  });

  it('with a tick as long as the interval, checks every tick, not every other one', async () => {
    // GUARDRAIL_INTERVAL_MS=2000 (the demo) ticks every 2 s; each check's clock is read after that
    // round's fold, so the next tick can come a little less than 2 s after it.
    const who = await editor(db());
    const input = await experimentInput(db(), { guardrails });
    const { created, started } = await createAndStart(db(), who, input);
    const t0 = Date.now() + 3_600_000; // after every other test's checks
    const at = (ms: number) =>
      createGuardrailJob({
        db: db(),
        log: () => {},
        intervalMs: 2000,
        now: () => new Date(t0 + ms),
      });
    const checked = async (ms: number) =>
      (await at(ms).runOnce()).some((o) => o.experimentId === created.id);
    expect(await checked(0)).toBe(true);
    expect(await checked(500)).toBe(false); // within the same tick: not due
    expect(await checked(1990)).toBe(true); // the next tick, 10 ms "early"
    await actOnExperiment(db(), who, {
      id: created.id,
      expectedVersion: started.version,
      action: 'kill',
    });
  });

  it('holds the ramp (pauses) on a sample-ratio mismatch and says so', async () => {
    const who = await editor(db());
    const input = await experimentInput(db(), { guardrails });
    const { created, started } = await createAndStart(db(), who, input);
    const [control, treatment] = started.arms;
    const rows = [
      ...Array.from({ length: 400 }, (_, i) => ({
        armId: control!.id,
        unitId: `srm-c-${created.id}-${i}`,
      })),
      ...Array.from({ length: 250 }, (_, i) => ({
        armId: treatment!.id,
        unitId: `srm-t-${created.id}-${i}`,
      })),
    ];
    await db().assignment.createMany({
      data: rows.map((r) => ({ ...r, experimentId: created.id, configVersion: started.version })),
    });
    const job = createGuardrailJob({ db: db(), log: () => {} });
    const outcome = (await job.runOnce()).find((o) => o.experimentId === created.id);
    expect(outcome?.action).toBe('hold');
    const after = await getExperiment(db(), created.id);
    expect(after.status).toBe('paused');
    expect(after.statusReason).toContain('sample-ratio mismatch');
    await actOnExperiment(db(), who, {
      id: created.id,
      expectedVersion: after.version,
      action: 'kill',
    });
  });
});
