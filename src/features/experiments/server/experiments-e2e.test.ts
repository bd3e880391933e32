// Experiments end to end on both databases, with the real worker as the backend: the gateway
// serves two model versions to two arms, records exposures and arms on the Generations, and the
// guardrail job rolls back a treatment whose backend cannot serve it (every suggestion falls back).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BackendPool } from '~/features/suggestions/server/backend-pool';
import { completeSuggestion } from '~/features/suggestions/server/suggestions-service';
import {
  createSuggestionRuntime,
  type SuggestionRuntime,
} from '~/features/suggestions/server/suggestions-runtime';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { DEMO_MODELS, startWorker, type WorkerProcess } from '~/test/worker-process';
import { experimentServing } from './experiment-serving';
import { actOnExperiment, createExperiment, getExperiment } from './experiments-service';
import { createGuardrailJob } from './guardrail-job';

let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorker({ MODEL_REPOSITORY: DEMO_MODELS });
});
afterAll(async () => {
  await worker?.stop();
});

describeOnEachDatabase('experiments end to end', ({ db }) => {
  let rt: SuggestionRuntime;
  beforeAll(async () => {
    rt = createSuggestionRuntime(
      db(),
      new BackendPool([worker.baseUrl], { failureThreshold: 1000, cooldownMs: 1000 }),
    );
    await rt.refreshModels();
    await fetch(`${worker.baseUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flywheel-student/1', prompt: 'Thank you for', max_tokens: 4 }),
    });
  });

  it('serves each arm its version and rolls back the arm whose backend is down', async () => {
    const who = { type: 'user' as const, userId: (await makeUser(db(), 'admin')).id };
    const teacher = await db().modelVersion.findUniqueOrThrow({
      where: { name_version: { name: 'flywheel-teacher', version: '1' } },
    });
    // A registered version no backend serves: calls to it fail and the chain falls back.
    const broken = await db().modelVersion.upsert({
      where: { name_version: { name: 'flywheel-unserved', version: '1' } },
      create: { name: 'flywheel-unserved', version: '1', backendModel: 'flywheel-unserved/1' },
      update: { status: 'registered' },
    });
    const created = await createExperiment(db(), who, {
      featureId: 'inline-completion',
      name: 'e2e: unserved treatment',
      arms: [
        { name: 'control', modelVersionId: teacher.id, weight: 0.5, isControl: true },
        { name: 'treatment', modelVersionId: broken.id, weight: 0.5, isControl: false },
      ],
      ramp: [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }],
      guardrails: [{ metric: 'fallback_rate', margin: 0, minUnits: 15 }],
    });
    await actOnExperiment(db(), who, { id: created.id, expectedVersion: 1, action: 'start' });
    try {
      const serving = experimentServing(db());
      await serving.refresh();
      const answers: string[] = [];
      for (let i = 0; i < 60; i++) {
        const { response, persisted } = await completeSuggestion(rt, {
          featureId: 'inline-completion',
          unitId: `e2e-${created.id}-${i}`,
          textBefore: 'Thank you for your',
          textAfter: '',
        });
        await persisted;
        expect(response.generationId).not.toBeNull();
        answers.push(response.generationId!);
      }
      await serving.flush();
      const generations = await db().generation.findMany({
        where: { id: { in: answers } },
        select: { armId: true, experimentId: true, tier: true, modelVersionId: true },
      });
      expect(generations).toHaveLength(60);
      expect(generations.every((g) => g.experimentId === created.id)).toBe(true);
      const view = await getExperiment(db(), created.id);
      const treatmentArm = view.arms.find((a) => !a.isControl)!;
      const controlArm = view.arms.find((a) => a.isControl)!;
      const inTreatment = generations.filter((g) => g.armId === treatmentArm.id);
      const inControl = generations.filter((g) => g.armId === controlArm.id);
      expect(inTreatment.length).toBeGreaterThan(15);
      expect(inControl.length).toBeGreaterThan(15);
      // The treatment never answers from its own version: the chain falls back.
      expect(inTreatment.every((g) => g.tier !== 'primary')).toBe(true);
      expect(inControl.some((g) => g.tier === 'primary' && g.modelVersionId === teacher.id)).toBe(
        true,
      );
      expect(await db().assignment.count({ where: { experimentId: created.id } })).toBe(60);

      const outcome = (await createGuardrailJob({ db: db(), log: () => {} }).runOnce()).find(
        (o) => o.experimentId === created.id,
      );
      expect(outcome?.action).toBe('rollback');
      const after = await getExperiment(db(), created.id);
      expect(after.status).toBe('rolled_back');
      console.log(
        `e2e: ${inControl.filter((g) => g.tier === 'primary').length}/${inControl.length} control answers from the teacher, ` +
          `${inTreatment.length} treatment answers all fell back; ${after.statusReason}`,
      );
      // Rolled back: the next suggestion is the feature's default, outside the experiment.
      await serving.refresh();
      const next = await completeSuggestion(rt, {
        featureId: 'inline-completion',
        unitId: `e2e-${created.id}-0`,
        textBefore: 'Thank you for your',
        textAfter: '',
      });
      await next.persisted;
      expect(next.response.generationId).not.toBeNull();
      const stored = await db().generation.findUniqueOrThrow({
        where: { id: next.response.generationId! },
      });
      expect(stored.experimentId).toBeNull();
    } finally {
      const current = await getExperiment(db(), created.id);
      if (current.status === 'running' || current.status === 'paused')
        await actOnExperiment(db(), who, {
          id: created.id,
          expectedVersion: current.version,
          action: 'kill',
        });
    }
  });
});
