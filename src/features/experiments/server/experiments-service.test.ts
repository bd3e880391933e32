import { TRPCError } from '@trpc/server';
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { contextFor, createCallerFactory, type SessionUser } from '~/server/trpc';
import { toPublicError } from '~/server/errors';
import { experimentsRouter } from './experiments-router';
import { StaleVersionError } from './experiments-service';
import { experimentInput, makeFeature, makeVersions, statusOf } from './testing/fixtures';

const callerFor = createCallerFactory(experimentsRouter);

describeOnEachDatabase('experiments service', ({ db }) => {
  const as = async (role: 'viewer' | 'editor' | 'admin') => {
    const user = await makeUser(db(), role);
    const session: SessionUser = { id: user.id, email: user.email, name: user.name, role };
    return { user, api: callerFor(contextFor(db(), session)) };
  };

  it('creates an experiment, audits it, and lets viewers read but not change', async () => {
    const { api, user } = await as('editor');
    const input = await experimentInput(db());
    const created = await api.create(input);
    expect(created).toMatchObject({
      status: 'draft',
      version: 1,
      coverage: 0,
      rampStep: 0,
      arms: [
        { name: 'control', isControl: true, weight: 0.5 },
        { name: 'treatment', isControl: false, weight: 0.5 },
      ],
    });
    expect(created.guardrails.map((g) => g.metric)).toEqual([
      'fallback_rate',
      'dismissal_rate',
      'acceptance_rate',
      'latency_p95',
    ]);
    const audit = await db().auditLog.findMany({ where: { entityId: created.id } });
    expect(audit).toEqual([
      expect.objectContaining({ action: 'experiment.create', actorId: user.id, actorType: 'user' }),
    ]);

    const viewer = (await as('viewer')).api;
    expect((await viewer.get({ id: created.id })).id).toBe(created.id);
    expect(await statusOf(viewer.create(await experimentInput(db())))).toBe(403);
    expect(
      await statusOf(viewer.act({ id: created.id, expectedVersion: 1, action: 'start' })),
    ).toBe(403);
    expect(await statusOf(callerFor(contextFor(db(), null)).list())).toBe(401);
  });

  it('refuses bad input with a 400 and changes nothing', async () => {
    const { api } = await as('editor');
    const base = await experimentInput(db());
    const [retired] = await makeVersions(db(), 1, 'retired');
    const before = await db().experiment.count({ where: { featureId: base.featureId } });
    const cases: [string, unknown][] = [
      [
        'weights not summing to 1',
        { ...base, arms: base.arms.map((a) => ({ ...a, weight: 0.6 })) },
      ],
      ['no control', { ...base, arms: base.arms.map((a) => ({ ...a, isControl: false })) }],
      [
        'unknown version',
        { ...base, arms: [base.arms[0], { ...base.arms[1], modelVersionId: randomUUID() }] },
      ],
      [
        'retired version',
        { ...base, arms: [base.arms[0], { ...base.arms[1], modelVersionId: retired!.id }] },
      ],
      [
        'ramp going down',
        {
          ...base,
          ramp: [
            { coverage: 0.5, minDurationMinutes: 0, minUnitsPerArm: 0 },
            { coverage: 0.2, minDurationMinutes: 0, minUnitsPerArm: 0 },
          ],
        },
      ],
      [
        'coverage above 1',
        { ...base, ramp: [{ coverage: 1.5, minDurationMinutes: 0, minUnitsPerArm: 0 }] },
      ],
      ['one arm', { ...base, arms: [base.arms[0]] }],
      ['N* below 300 units', { ...base, sequentialTuning: 299 }],
      ['N* not a whole number', { ...base, sequentialTuning: 500.5 }],
    ];
    for (const [what, body] of cases) {
      const status = await statusOf(api.create(body as typeof base));
      expect({ what, status }).toEqual({ what, status: 400 });
    }
    expect(await statusOf(api.create({ ...base, featureId: 'no-such-feature' }))).toBe(404);
    expect(await db().experiment.count({ where: { featureId: base.featureId } })).toBe(before);
  });

  it('allows one live experiment per feature, also under concurrent starts', async () => {
    const { api } = await as('editor');
    const featureId = await makeFeature(db());
    const a = await api.create(await experimentInput(db(), { featureId }));
    const b = await api.create(await experimentInput(db(), { featureId }));
    const c = await api.create(await experimentInput(db(), { featureId }));
    const results = await Promise.allSettled([
      api.act({ id: a.id, expectedVersion: 1, action: 'start' }),
      api.act({ id: b.id, expectedVersion: 1, action: 'start' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected');
    expect(toPublicError(rejected?.reason)).toMatchObject({
      status: 409,
      message: expect.stringContaining('already has a live experiment'),
    });
    expect(await statusOf(api.act({ id: c.id, expectedVersion: 1, action: 'start' }))).toBe(409);
    const live = await db().experiment.findMany({
      where: { featureId, status: { in: ['running', 'paused'] } },
    });
    expect(live).toHaveLength(1);
    // Paused still counts as live; after a kill another may start.
    const running = live[0]!;
    const paused = await api.act({
      id: running.id,
      expectedVersion: running.configVersion,
      action: 'pause',
    });
    expect(await statusOf(api.act({ id: c.id, expectedVersion: 1, action: 'start' }))).toBe(409);
    await api.act({ id: running.id, expectedVersion: paused.version, action: 'kill' });
    expect((await api.act({ id: c.id, expectedVersion: 1, action: 'start' })).status).toBe(
      'running',
    );
    const cv = await api.get({ id: c.id });
    await api.act({ id: c.id, expectedVersion: cv.version, action: 'kill' });
  });

  it('refuses an edit based on a stale version with a 409 that carries the current one', async () => {
    const { api } = await as('editor');
    const created = await api.create(await experimentInput(db()));
    const renamed = await api.update({ id: created.id, expectedVersion: 1, name: 'Renamed' });
    expect(renamed.version).toBe(2);
    try {
      await api.update({ id: created.id, expectedVersion: 1, name: 'Stale' });
      expect.unreachable();
    } catch (error) {
      expect(toPublicError(error).status).toBe(409);
      const cause = (error as TRPCError).cause;
      expect(cause).toBeInstanceOf(StaleVersionError);
      expect((cause as StaleVersionError).current).toMatchObject({ version: 2, name: 'Renamed' });
    }
    // Two concurrent edits from the same version: one wins, the other is a 409.
    const results = await Promise.allSettled([
      api.update({ id: created.id, expectedVersion: 2, name: 'One' }),
      api.update({ id: created.id, expectedVersion: 2, name: 'Two' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await api.get({ id: created.id })).version).toBe(3);
    // Arms are fixed once started.
    const started = await api.act({ id: created.id, expectedVersion: 3, action: 'start' });
    expect(
      await statusOf(
        api.update({
          id: created.id,
          expectedVersion: started.version,
          ramp: [{ coverage: 1, minDurationMinutes: 0, minUnitsPerArm: 0 }],
        }),
      ),
    ).toBe(400);
    // …and so is N*: the tests would change mid-way.
    expect(
      await statusOf(
        api.update({ id: created.id, expectedVersion: started.version, sequentialTuning: 400 }),
      ),
    ).toBe(400);
    await api.act({ id: created.id, expectedVersion: started.version, action: 'kill' });
  });

  it('ramps, kills and promotes, auditing before and after', async () => {
    const { api } = await as('admin');
    const input = await experimentInput(db());
    const created = await api.create(input);
    const started = await api.act({ id: created.id, expectedVersion: 1, action: 'start' });
    expect(started).toMatchObject({ status: 'running', coverage: 0.2, rampStep: 0 });
    const ramped = await api.act({ id: created.id, expectedVersion: 2, action: 'advance' });
    expect(ramped).toMatchObject({ coverage: 0.5, rampStep: 1 });
    const promoted = await api.act({ id: created.id, expectedVersion: 3, action: 'promote' });
    expect(promoted.status).toBe('completed');
    expect(promoted.statusReason).toContain('treatment');
    const versions = await db().modelVersion.findMany({
      where: { id: { in: input.arms.map((a) => a.modelVersionId) } },
    });
    const winner = input.arms[1]!.modelVersionId;
    expect(versions.find((v) => v.id === winner)?.status).toBe('active');
    expect(versions.find((v) => v.id !== winner)?.status).toBe('retired');
    expect(
      (await db().feature.findUniqueOrThrow({ where: { id: input.featureId } }))
        .defaultModelVersionId,
    ).toBe(winner);
    const history = await api.history({ id: created.id });
    expect(history.map((h) => h.action)).toEqual([
      'experiment.promote',
      'experiment.advance',
      'experiment.start',
      'experiment.create',
    ]);
    expect(history[1]).toMatchObject({
      before: expect.objectContaining({ rampStep: 0, coverage: 0.2 }),
      after: expect.objectContaining({ rampStep: 1, coverage: 0.5 }),
    });
    // Ended experiments cannot move again.
    expect(await statusOf(api.act({ id: created.id, expectedVersion: 4, action: 'start' }))).toBe(
      400,
    );

    const other = await api.create(await experimentInput(db()));
    await api.act({ id: other.id, expectedVersion: 1, action: 'start' });
    const killed = await api.act({
      id: other.id,
      expectedVersion: 2,
      action: 'kill',
      reason: 'complaints',
    });
    expect(killed).toMatchObject({ status: 'rolled_back', coverage: 0 });
    expect(killed.statusReason).toContain('complaints');
  });

  it('sets a feature holdout, but not while an experiment is live on it', async () => {
    const { api } = await as('editor');
    const input = await experimentInput(db());
    expect(await api.setHoldout({ featureId: input.featureId, share: 0.1 })).toEqual({
      featureId: input.featureId,
      share: 0.1,
    });
    expect(await statusOf(api.setHoldout({ featureId: input.featureId, share: 0.9 }))).toBe(400);
    const created = await api.create(input);
    await api.act({ id: created.id, expectedVersion: 1, action: 'start' });
    expect(await statusOf(api.setHoldout({ featureId: input.featureId, share: 0.2 }))).toBe(400);
    await api.act({ id: created.id, expectedVersion: 2, action: 'kill' });
    expect((await api.features()).find((h) => h.featureId === input.featureId)?.share).toBe(0.1);
  });
});
