// The feature's default version on the real suggestion path (tRPC's service, the gateway, the real
// worker), on both databases: it answers for units outside experiments, its dead backend falls
// through to the chain, and requests in flight while an experiment is promoted never fail.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BackendPool } from '~/features/suggestions/server/backend-pool';
import { completeSuggestion } from '~/features/suggestions/server/suggestions-service';
import {
  createSuggestionRuntime,
  type SuggestionRuntime,
} from '~/features/suggestions/server/suggestions-runtime';
import { describeOnEachDatabase } from '~/test/databases';
import { DEMO_MODELS, startWorker, type WorkerProcess } from '~/test/worker-process';
import { assignArm } from '../assignment';
import { experimentServing } from './experiment-serving';
import { actOnExperiment, createExperiment, setDefaultVersion } from './experiments-service';
import { editor, makeVersions } from './testing/fixtures';

const FEATURE = 'inline-completion';
// A port nothing listens on: connections are refused at once, as from a backend that is down.
const DEAD_BACKEND = 'http://127.0.0.1:9';

let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorker({ MODEL_REPOSITORY: DEMO_MODELS });
});
afterAll(async () => {
  await worker?.stop();
});

describeOnEachDatabase('default version on the suggestion path', ({ db }) => {
  let rt: SuggestionRuntime;
  let original: string | null = null;
  /** Versions of a fresh name served by the worker as `backendModel` (retiring them harms nobody). */
  const servedAs = async (backendModel: string, count = 1) => {
    const rows = await makeVersions(db(), count);
    await db().modelVersion.updateMany({
      where: { id: { in: rows.map((r) => r.id) } },
      data: { backendModel },
    });
    return rows.map((r) => ({ ...r, backendModel, label: `${r.name}/${r.version}` }));
  };
  const complete = (unitId: string) =>
    completeSuggestion(rt, { featureId: FEATURE, unitId, textBefore: 'Thank you for your ' });
  /** Waits (≤ 5 s) until serving resolves `unitId` to `versionId`. */
  const servedSoon = async (unitId: string, versionId: string) => {
    const started = Date.now();
    while (Date.now() - started < 5000) {
      const served = await experimentServing(db()).resolveServed(FEATURE, unitId);
      if (served.model?.id === versionId) return Date.now() - started;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`serving did not switch ${unitId} to ${versionId} within 5 s`);
  };

  beforeAll(async () => {
    // The dead backend first in the list; it has never listed its models, so it is asked for all.
    rt = createSuggestionRuntime(
      db(),
      new BackendPool([DEAD_BACKEND, worker.baseUrl], { failureThreshold: 1000, cooldownMs: 1 }),
    );
    await rt.refreshModels();
    original = (await db().feature.findUniqueOrThrow({ where: { id: FEATURE } }))
      .defaultModelVersionId;
    for (const model of ['flywheel-teacher/1', 'flywheel-student/1'])
      await fetch(`${worker.baseUrl}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, prompt: 'Thank you for', max_tokens: 4 }),
      });
  });
  afterAll(async () => {
    // Other suites on this database expect the feature as the mirror left it.
    await db().experiment.updateMany({
      where: { featureId: FEATURE, status: { in: ['running', 'paused'] } },
      data: { status: 'rolled_back', endedAt: new Date() },
    });
    await db().feature.update({
      where: { id: FEATURE },
      data: { defaultModelVersionId: original },
    });
  });

  it('answers with the default version outside experiments, and with the chain when its backend is down', async () => {
    const who = await editor(db());
    const [student] = await servedAs('flywheel-student/1');
    await setDefaultVersion(db(), who, { featureId: FEATURE, modelVersionId: student!.id });
    await servedSoon('default-unit', student!.id);
    const { response, persisted } = await complete('default-unit');
    expect(response).toMatchObject({ tier: 'primary', modelVersion: student!.label });
    await persisted;
    const row = await db().generation.findUniqueOrThrow({ where: { id: response.generationId! } });
    expect(row).toMatchObject({ modelVersionId: student!.id, experimentId: null, tier: 'primary' });

    // The default's backend is down: the rest of the chain (the student by name, then n-gram) answers.
    const [down] = await servedAs(`nowhere-${student!.name}/1`);
    await setDefaultVersion(db(), who, { featureId: FEATURE, modelVersionId: down!.id });
    await servedSoon('down-unit', down!.id);
    for (let i = 0; i < 3; i++) {
      const { response: r } = await complete(`down-unit-${i}`);
      expect(r.tier).toBe('fallback_model');
      expect(r.modelVersion).toMatch(/^flywheel-student\//);
      expect(r.text.length).toBeGreaterThan(0);
    }
  });

  it('requests in flight while an experiment is promoted all get an answer; then the winner is the default', async () => {
    const who = await editor(db());
    const [control, treatment] = await servedAs('flywheel-student/1', 2);
    await setDefaultVersion(db(), who, { featureId: FEATURE, modelVersionId: control!.id });
    const created = await createExperiment(db(), who, {
      featureId: FEATURE,
      name: `Promotion under load ${control!.name}`,
      arms: [
        { name: 'control', modelVersionId: control!.id, weight: 0.5, isControl: true },
        { name: 'treatment', modelVersionId: treatment!.id, weight: 0.5 },
      ],
      ramp: [{ coverage: 0.5, minDurationMinutes: 0, minUnitsPerArm: 0 }],
      guardrails: [],
    });
    await actOnExperiment(db(), who, { id: created.id, expectedVersion: 1, action: 'start' });
    const units = Array.from({ length: 48 }, (_, i) => `promo-${created.id}-${i}`);
    const outside = units.filter(
      (u) =>
        assignArm({ seed: created.seed, unitId: u, weights: [0.5, 0.5], coverage: 0.5 }) === null,
    );
    await servedSoon(outside[0]!, control!.id);

    // Six callers at a time go through all units while the promotion commits in the middle.
    const outcomes: PromiseSettledResult<Awaited<ReturnType<typeof complete>>>[] = [];
    let next = 0;
    let answeredBeforePromotion = -1;
    const caller = async () => {
      while (next < units.length) {
        const unit = units[next++]!;
        const [settled] = await Promise.allSettled([complete(unit)]);
        outcomes.push(settled);
        if (settled.status === 'fulfilled') await settled.value.persisted;
      }
    };
    const promotion = (async () => {
      while (next < units.length / 3) await new Promise((r) => setTimeout(r, 5));
      const promoted = await actOnExperiment(db(), who, {
        id: created.id,
        expectedVersion: 2,
        action: 'promote',
      });
      answeredBeforePromotion = outcomes.length;
      return promoted;
    })();
    await Promise.all([...Array.from({ length: 6 }, caller), promotion]);
    expect((await promotion).status).toBe('completed');
    // The promotion committed while requests were still being asked.
    expect(answeredBeforePromotion).toBeGreaterThan(0);
    expect(answeredBeforePromotion).toBeLessThan(units.length - 6);
    const failures = outcomes.filter((o) => o.status === 'rejected');
    expect(failures).toEqual([]);
    const answers = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.response] : []));
    expect(answers).toHaveLength(units.length);
    for (const a of answers) {
      expect(a.recorded).toBe(true);
      if (a.tier === 'primary')
        expect([control!.label, treatment!.label]).toContain(a.modelVersion);
    }
    console.log(
      `promotion under load: ${answers.length} answers, tiers ${JSON.stringify(
        answers.reduce<Record<string, number>>(
          (m, a) => ({ ...m, [a.tier]: (m[a.tier] ?? 0) + 1 }),
          {},
        ),
      )}`,
    );

    // After it, every unit (in or out of the former experiment) is served the winner.
    const feature = await db().feature.findUniqueOrThrow({ where: { id: FEATURE } });
    expect(feature.defaultModelVersionId).toBe(treatment!.id);
    await servedSoon(outside[0]!, treatment!.id);
    const { response } = await complete(outside[0]!);
    expect(response).toMatchObject({ tier: 'primary', modelVersion: treatment!.label });
  });
});
