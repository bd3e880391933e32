import { expect, it } from 'vitest';
import { createApiKey } from '~/features/settings/server/api-key-service';
import { createPublicApi } from '~/composition/public-api';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { experimentInput } from './testing/fixtures';

describeOnEachDatabase('experiments public API', ({ db }) => {
  const call = (method: string, path: string, key: string, body?: unknown) =>
    createPublicApi(db).fetch(
      new Request(`http://localhost/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
  const keyFor = async (role: 'viewer' | 'editor') => {
    const user = await makeUser(db(), 'admin');
    return (await createApiKey(db(), { id: user.id, role: 'admin' }, { name: 'k', role })).key;
  };

  it('lists, creates, changes status and reads results with an API key', async () => {
    const editor = await keyFor('editor');
    const viewer = await keyFor('viewer');
    const input = await experimentInput(db());

    expect((await call('POST', '/experiments', viewer, input)).status).toBe(403);
    const created = await call('POST', '/experiments', editor, input);
    expect(created.status).toBe(201);
    const experiment = (await created.json()) as { id: string; version: number; status: string };
    expect(experiment.status).toBe('draft');

    const list = await call('GET', `/experiments?featureId=${input.featureId}`, viewer);
    expect(((await list.json()) as { id: string }[]).map((e) => e.id)).toEqual([experiment.id]);

    const started = await call('POST', `/experiments/${experiment.id}/actions`, editor, {
      action: 'start',
      expectedVersion: 1,
    });
    expect(started.status).toBe(200);
    expect(await started.json()).toMatchObject({ status: 'running', version: 2 });

    // A stale version: 409 with the experiment as it is now.
    const stale = await call('PATCH', `/experiments/${experiment.id}`, editor, {
      expectedVersion: 1,
      name: 'Too late',
    });
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({
      error: { code: 'CONFLICT' },
      current: { id: experiment.id, version: 2, status: 'running' },
    });

    const results = await call('GET', `/experiments/${experiment.id}/results`, viewer);
    expect(results.status).toBe(200);
    expect(await results.json()).toMatchObject({
      arms: [
        { name: 'control', isControl: true, units: 0 },
        { name: 'treatment', isControl: false, units: 0 },
      ],
      verdict: { decision: 'keep running' },
    });

    const killed = await call('POST', `/experiments/${experiment.id}/actions`, editor, {
      action: 'kill',
      expectedVersion: 2,
    });
    expect(await killed.json()).toMatchObject({ status: 'rolled_back' });
    const history = await call('GET', `/experiments/${experiment.id}/history`, viewer);
    expect(((await history.json()) as { action: string; actorType: string }[])[0]).toMatchObject({
      action: 'experiment.kill',
      actorType: 'api_key',
    });
  });

  it('answers bad input with a clear 4xx', async () => {
    const editor = await keyFor('editor');
    const input = await experimentInput(db());
    const bad = await call('POST', '/experiments', editor, {
      ...input,
      arms: input.arms.map((a) => ({ ...a, weight: 0.7 })),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { code: 'BAD_REQUEST', message: expect.stringContaining('sum to 1') },
    });
    expect((await call('GET', '/experiments/not-a-uuid', editor)).status).toBe(400);
    expect(
      (await call('GET', '/experiments/00000000-0000-4000-8000-000000000000', editor)).status,
    ).toBe(404);
    expect(
      (
        await call('POST', '/experiments/00000000-0000-4000-8000-000000000000/actions', editor, {
          action: 'explode',
          expectedVersion: 1,
        })
      ).status,
    ).toBe(400);
    expect((await call('GET', '/experiments?status=nope', editor)).status).toBe(400);
  });
});
