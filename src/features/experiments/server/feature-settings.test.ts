// Features' default versions: served to every unit outside an experiment (and in the holdout),
// switched by a promotion, set in the console and the public API, audited; on both databases.
import { expect, it } from 'vitest';
import { createPublicApi } from '~/composition/public-api';
import { createApiKey } from '~/features/settings/server/api-key-service';
import { contextFor, createCallerFactory, type SessionUser } from '~/server/trpc';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { syncFeatures } from '~/features/suggestions/server/feature-sync';
import { StaticModelCatalog } from '~/features/suggestions/server/model-catalog';
import { assignArm, inHoldout } from '../assignment';
import { ExperimentServing, armOrder } from './experiment-serving';
import { experimentsRouter } from './experiments-router';
import {
  actOnExperiment,
  createExperiment,
  listFeatureSettings,
  setDefaultVersion,
  setHoldout,
} from './experiments-service';
import { editor, experimentInput, makeFeature, makeVersions, statusOf } from './testing/fixtures';

const callerFor = createCallerFactory(experimentsRouter);

describeOnEachDatabase('feature default versions', ({ db }) => {
  it('serves the default outside the experiment and in the holdout, the arm inside it', async () => {
    const who = await editor(db());
    const [fallback] = await makeVersions(db(), 1);
    const input = await experimentInput(db(), {
      ramp: [{ coverage: 0.5, minDurationMinutes: 0, minUnitsPerArm: 0 }],
    });
    const serving = new ExperimentServing(db(), { pollMs: 50 });
    // No default set: nothing to override the chain with.
    expect(await serving.resolveServed(input.featureId, 'u-0')).toEqual({ arm: null, model: null });

    await setDefaultVersion(db(), who, {
      featureId: input.featureId,
      modelVersionId: fallback!.id,
    });
    await setHoldout(db(), who, { featureId: input.featureId, share: 0.1 });
    const created = await createExperiment(db(), who, input);
    const running = await actOnExperiment(db(), who, {
      id: created.id,
      expectedVersion: 1,
      action: 'start',
    });
    await serving.refresh();
    const arms = armOrder(running.arms);
    const seen = { arm: 0, holdout: 0, outside: 0 };
    for (let i = 0; i < 600; i++) {
      const unit = `default-${created.id}-${i}`;
      const served = await serving.resolveServed(input.featureId, unit);
      const held = inHoldout(input.featureId, unit, 0.1);
      const index = held
        ? null
        : assignArm({ seed: running.seed, unitId: unit, weights: [0.5, 0.5], coverage: 0.5 });
      if (index === null) {
        seen[held ? 'holdout' : 'outside']++;
        expect(served.arm).toBeNull();
        expect(served.model).toMatchObject({ id: fallback!.id, label: `${fallback!.name}/1` });
      } else {
        seen.arm++;
        const arm = arms[index]!;
        expect(served.arm?.armId).toBe(arm.id);
        expect(served.model?.id).toBe(arm.modelVersion.id);
      }
    }
    expect(seen.arm * seen.holdout * seen.outside).toBeGreaterThan(0);
    await actOnExperiment(db(), who, { id: created.id, expectedVersion: 2, action: 'kill' });

    // A retired default is served by nobody: the chain's first model answers (model null).
    await db().modelVersion.update({ where: { id: fallback!.id }, data: { status: 'retired' } });
    await serving.refresh();
    expect((await serving.resolveServed(input.featureId, 'u-1')).model).toBeNull();
    await serving.stop();
  });

  it('a promotion makes the winner the default, audited on the feature, seen by serving', async () => {
    const who = await editor(db());
    const input = await experimentInput(db(), {
      ramp: [{ coverage: 0.3, minDurationMinutes: 0, minUnitsPerArm: 0 }],
    });
    const [control, treatment] = input.arms;
    await setDefaultVersion(db(), who, {
      featureId: input.featureId,
      modelVersionId: control!.modelVersionId,
    });
    const created = await createExperiment(db(), who, input);
    await actOnExperiment(db(), who, { id: created.id, expectedVersion: 1, action: 'start' });
    const serving = new ExperimentServing(db()); // default polling (1 s)
    const outside = Array.from({ length: 200 }, (_, i) => `promo-${created.id}-${i}`).filter(
      (u) =>
        assignArm({ seed: created.seed, unitId: u, weights: [0.5, 0.5], coverage: 0.3 }) === null,
    );
    for (const unit of outside.slice(0, 20))
      expect((await serving.resolveServed(input.featureId, unit)).model?.id).toBe(
        control!.modelVersionId,
      );

    const promotedAt = Date.now();
    await actOnExperiment(db(), who, { id: created.id, expectedVersion: 2, action: 'promote' });
    const feature = await db().feature.findUniqueOrThrow({ where: { id: input.featureId } });
    expect(feature.defaultModelVersionId).toBe(treatment!.modelVersionId);
    const audit = await db().auditLog.findMany({
      where: { entityType: 'feature', entityId: input.featureId },
      orderBy: { createdAt: 'asc' },
    });
    expect(audit.map((a) => a.action)).toEqual([
      'feature.set_default_version',
      'feature.set_default_version',
    ]);
    expect(audit[1]).toMatchObject({
      actorType: 'user',
      before: { defaultVersion: expect.stringMatching(/\/1$/) },
      after: {
        defaultVersion: expect.stringMatching(/\/2$/),
        via: expect.stringContaining(created.id),
      },
    });
    const listed = await listFeatureSettings(db());
    expect(listed.find((f) => f.featureId === input.featureId)?.defaultChange?.via).toContain(
      created.id,
    );
    // Every instance sees the new default within a few seconds (no restart).
    let elapsed = 0;
    while (
      (await serving.resolveServed(input.featureId, outside[0]!)).model?.id !==
      treatment!.modelVersionId
    ) {
      elapsed = Date.now() - promotedAt;
      if (elapsed > 10_000) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(elapsed).toBeLessThan(5000);
    for (const unit of outside)
      expect((await serving.resolveServed(input.featureId, unit)).model?.id).toBe(
        treatment!.modelVersionId,
      );
    await serving.stop();
  });

  it('the mirror of the features never overwrites a chosen default, only a missing or retired one', async () => {
    const who = await editor(db());
    const [chosen, chain] = await makeVersions(db(), 2);
    const catalog = new StaticModelCatalog([
      { id: chain!.id, name: 'flywheel-teacher', version: '9', backendModel: 'x', label: 'x' },
    ]);
    // The sync mirrors every declared feature: a feature without a default (rewrite, in a fresh
    // database) gets this test's unserved chain version, which other files' rewrites would then
    // be served by. Every feature's default is put back afterwards.
    const before = await db().feature.findMany({
      select: { id: true, defaultModelVersionId: true },
    });
    try {
      await setDefaultVersion(db(), who, {
        featureId: 'inline-completion',
        modelVersionId: chosen!.id,
      });
      await syncFeatures(db(), catalog);
      expect(
        (await db().feature.findUniqueOrThrow({ where: { id: 'inline-completion' } }))
          .defaultModelVersionId,
      ).toBe(chosen!.id);
      await db().modelVersion.update({ where: { id: chosen!.id }, data: { status: 'retired' } });
      await syncFeatures(db(), catalog);
      expect(
        (await db().feature.findUniqueOrThrow({ where: { id: 'inline-completion' } }))
          .defaultModelVersionId,
      ).toBe(chain!.id);
    } finally {
      for (const f of await db().feature.findMany({ select: { id: true } }))
        await db().feature.update({
          where: { id: f.id },
          data: {
            defaultModelVersionId: before.find((b) => b.id === f.id)?.defaultModelVersionId ?? null,
          },
        });
    }
  });

  it('the console and the API show and change the default; bad input is a 4xx with the reason', async () => {
    const user = await makeUser(db(), 'editor');
    const session: SessionUser = {
      id: user.id,
      email: user.email,
      name: user.name,
      role: 'editor',
    };
    const api = callerFor(contextFor(db(), session));
    const viewerUser = await makeUser(db(), 'viewer');
    const viewer = callerFor(
      contextFor(db(), { ...session, id: viewerUser.id, email: viewerUser.email, role: 'viewer' }),
    );
    const featureId = await makeFeature(db());
    const [v1, v2] = await makeVersions(db(), 2);
    const [retired] = await makeVersions(db(), 1, 'retired');

    expect(await statusOf(viewer.setDefaultVersion({ featureId, modelVersionId: v1!.id }))).toBe(
      403,
    );
    const set = await api.setDefaultVersion({ featureId, modelVersionId: v1!.id });
    expect(set).toEqual({
      featureId,
      share: 0,
      defaultVersion: { id: v1!.id, label: `${v1!.name}/1`, status: 'registered' },
    });
    expect(
      (await viewer.features()).find((f) => f.featureId === featureId)?.defaultVersion?.id,
    ).toBe(v1!.id);
    expect((await viewer.features()).find((f) => f.featureId === featureId)?.defaultChange).toEqual(
      { at: expect.any(Date), by: user.email, via: null },
    );
    const refused = [
      api.setDefaultVersion({ featureId, modelVersionId: retired!.id }),
      api.setDefaultVersion({ featureId, modelVersionId: '00000000-0000-4000-8000-000000000000' }),
      api.setDefaultVersion({ featureId, modelVersionId: 'not-a-uuid' }),
      api.setDefaultVersion({ featureId: 'no-such-feature', modelVersionId: v1!.id }),
    ];
    expect(await Promise.all(refused.map(statusOf))).toEqual([400, 400, 400, 404]);

    // The public API: any key reads, an editor key changes.
    const admin = await makeUser(db(), 'admin');
    const key = async (role: 'viewer' | 'editor') =>
      (await createApiKey(db(), { id: admin.id, role: 'admin' }, { name: 'k', role })).key;
    const [viewerKey, editorKey] = [await key('viewer'), await key('editor')];
    const call = (method: string, path: string, k: string, body?: unknown) =>
      createPublicApi(db).fetch(
        new Request(`http://localhost/api/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
    const path = `/features/${featureId}/default-version`;
    expect((await call('PUT', path, viewerKey, { modelVersionId: v2!.id })).status).toBe(403);
    const put = await call('PUT', path, editorKey, { modelVersionId: v2!.id });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ featureId, defaultVersion: { id: v2!.id } });
    const bad = await call('PUT', path, editorKey, { modelVersionId: 42 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect((await call('PUT', path, editorKey, { modelVersionId: retired!.id })).status).toBe(400);
    const list = (await (await call('GET', '/features', viewerKey)).json()) as {
      featureId: string;
      defaultVersion: { id: string } | null;
    }[];
    expect(list.find((f) => f.featureId === featureId)?.defaultVersion?.id).toBe(v2!.id);
    const holdout = await call('PUT', `/features/${featureId}/holdout`, editorKey, { share: 0.05 });
    expect(await holdout.json()).toEqual({ featureId, share: 0.05 });

    const audit = await db().auditLog.findMany({
      where: { entityType: 'feature', entityId: featureId },
      orderBy: { createdAt: 'asc' },
    });
    expect(audit.map((a) => [a.action, a.actorType, a.after])).toEqual([
      ['feature.set_default_version', 'user', { defaultVersion: `${v1!.name}/1` }],
      ['feature.set_default_version', 'api_key', { defaultVersion: `${v2!.name}/2` }],
      ['feature.set_holdout', 'api_key', { holdout: 0.05 }],
    ]);
  });
});
