// An experiment's assignment seed, given at creation (tRPC and /api/v1) or random: recorded,
// shown, validated, and the same seed assigns the same units to the same arms; on both databases.
import { expect, it } from 'vitest';
import { createPublicApi } from '~/composition/public-api';
import { createApiKey } from '~/features/settings/server/api-key-service';
import { toPublicError } from '~/server/errors';
import { contextFor, createCallerFactory, type SessionUser } from '~/server/trpc';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { ExperimentServing } from './experiment-serving';
import { experimentsRouter } from './experiments-router';
import { experimentInput } from './testing/fixtures';

const callerFor = createCallerFactory(experimentsRouter);

describeOnEachDatabase('experiment assignment seed', ({ db }) => {
  const editorApi = async () => {
    const user = await makeUser(db(), 'editor');
    const session: SessionUser = {
      id: user.id,
      email: user.email,
      name: user.name,
      role: 'editor',
    };
    return callerFor(contextFor(db(), session));
  };

  it('the same seed puts the same units in the same arms; without one it is random', async () => {
    const api = await editorApi();
    const seed = `demo-run:${Date.now()}`;
    const ramp = [{ coverage: 0.8, minDurationMinutes: 0, minUnitsPerArm: 0 }];
    // Two runs of the "same" experiment (other features, other versions), and one without a seed.
    const [a, b, c] = await Promise.all([
      experimentInput(db(), { ramp }).then((i) => api.create({ ...i, seed })),
      experimentInput(db(), { ramp }).then((i) => api.create({ ...i, seed: `  ${seed} ` })),
      experimentInput(db(), { ramp }).then((i) => api.create(i)),
    ]);
    expect(a.seed).toBe(seed);
    expect(b.seed).toBe(seed);
    expect(c.seed).toMatch(/^[0-9a-f-]{36}$/);
    const created = await db().auditLog.findFirstOrThrow({
      where: { entityId: a.id, action: 'experiment.create' },
    });
    expect(created.after).toMatchObject({ seed });
    for (const e of [a, b, c]) await api.act({ id: e.id, expectedVersion: 1, action: 'start' });

    const serving = new ExperimentServing(db());
    const armIndex = async (e: typeof a, unit: string) => {
      const served = await serving.resolveServed(e.featureId, unit);
      return served.arm ? e.arms.findIndex((x) => x.id === served.arm!.armId) : null;
    };
    let same = 0;
    let differentFromRandom = 0;
    for (let i = 0; i < 400; i++) {
      const unit = `seeded-unit-${i}`;
      const [x, y, z] = [await armIndex(a, unit), await armIndex(b, unit), await armIndex(c, unit)];
      expect(y).toBe(x);
      same++;
      if (z !== x) differentFromRandom++;
    }
    expect(same).toBe(400);
    expect(differentFromRandom).toBeGreaterThan(50);
    await serving.stop();
    for (const e of [a, b, c]) await api.act({ id: e.id, expectedVersion: 2, action: 'kill' });
  });

  it('a bad seed is a 400 with the reason, through tRPC and the public API', async () => {
    const api = await editorApi();
    const input = await experimentInput(db());
    for (const seed of ['', '   ', 'has space', 'x'.repeat(101), 'semi;colon']) {
      const error = await api.create({ ...input, seed }).then(
        () => null,
        (e: unknown) => toPublicError(e),
      );
      expect(error?.status, JSON.stringify(seed)).toBe(400);
      expect(error?.message).toMatch(/seed: The assignment seed/);
    }
    const admin = await makeUser(db(), 'admin');
    const { key } = await createApiKey(
      db(),
      { id: admin.id, role: 'admin' },
      { name: 'k', role: 'editor' },
    );
    const post = (body: unknown) =>
      createPublicApi(db).fetch(
        new Request('http://localhost/api/v1/experiments', {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      );
    const bad = await post({ ...input, seed: 42 });
    expect(bad.status).toBe(400);
    const good = await post({ ...input, seed: 'api-seed-1' });
    expect(good.status).toBe(201);
    expect(await good.json()).toMatchObject({ seed: 'api-seed-1', status: 'draft' });
    expect(await db().experiment.count({ where: { featureId: input.featureId } })).toBe(1);
  });
});
