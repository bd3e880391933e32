// Evals over /api/v1 and tRPC on both databases: who may queue and read, and bad input that must
// come back as a 4xx a caller can act on (never a 500). Queuing needs no backend.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiKey } from '~/features/settings/server/api-key-service';
import { createPublicApi } from '~/composition/public-api';
import { createCaller } from '~/composition/root';
import { contextFor } from '~/server/trpc';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { MAX_SAMPLE } from '../config';
import { seedEvalTraffic, type SeededTraffic } from './testing/eval-fixtures';

describeOnEachDatabase('evals over /api/v1 and tRPC', ({ db }) => {
  let traffic: SeededTraffic;
  let editorKey: string;
  let viewerKey: string;
  const queued: string[] = [];
  beforeAll(async () => {
    traffic = await seedEvalTraffic(db(), new Map());
    await db().modelVersion.upsert({
      where: { name_version: { name: 'flywheel-teacher', version: '1' } },
      create: { name: 'flywheel-teacher', version: '1', backendModel: 'flywheel-teacher/1' },
      update: {},
    });
    const user = await makeUser(db(), 'editor');
    const owner = { id: user.id, role: 'editor' as const };
    editorKey = (await createApiKey(db(), owner, { name: 'evals', role: 'editor' })).key;
    viewerKey = (await createApiKey(db(), owner, { name: 'read', role: 'viewer' })).key;
  });
  afterAll(async () => {
    // Nobody runs them here; a later job test must not pick them up.
    await db().evalRun.updateMany({
      where: { id: { in: queued }, status: 'queued' },
      data: { status: 'failed', error: 'queued by the API test' },
    });
  });

  const call = async (key: string | null, method: string, url: string, body?: unknown) => {
    const res = await createPublicApi(db).fetch(
      new Request(`http://localhost/api/v1${url}`, {
        method,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          'content-type': 'application/json',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown> & { error?: { message: string } },
    };
  };
  const valid = () => ({
    model: 'flywheel-teacher/1',
    from: traffic.from,
    to: traffic.to,
    sample: 20,
    seed: '7',
  });

  it('queues with an editor key and polls with any key', async () => {
    const created = await call(editorKey, 'POST', '/evals', valid());
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    queued.push(id);
    expect(created.body).toMatchObject({
      status: 'queued',
      model: { label: 'flywheel-teacher/1' },
      progress: { done: 0, total: 20 },
      metrics: null,
      sampleSize: 20,
      seed: '7',
    });
    const polled = await call(viewerKey, 'GET', `/evals/${id}`);
    expect(polled.status).toBe(200);
    expect(polled.body.id).toBe(id);
    const list = await call(viewerKey, 'GET', '/evals');
    expect((list.body as unknown as { id: string }[]).some((r) => r.id === id)).toBe(true);

    expect((await call(viewerKey, 'POST', '/evals', valid())).status).toBe(403);
    expect((await call(null, 'POST', '/evals', valid())).status).toBe(401);
    // A run that has not failed is not retried.
    const retry = await call(editorKey, 'POST', `/evals/${id}/retry`);
    expect(retry.status).toBe(409);
    expect(retry.body.error?.message).toContain('Only a failed run can be retried');
  });

  it.each([
    [{ model: 'nope/1' }, 404, 'Model version "nope/1"'],
    [{ sample: 0 }, 400, 'sample must be at least 1'],
    [{ sample: MAX_SAMPLE + 1 }, 400, `sample must be at most ${MAX_SAMPLE}`],
    [{ sample: 1e9 }, 400, `sample must be at most ${MAX_SAMPLE}`],
    [{ sample: 2.5 }, 400, 'whole number'],
    [{ sample: '10' }, 400, 'sample'],
    [{ dataset: randomUUID(), from: undefined, to: undefined }, 404, 'Dataset version'],
    [{ dataset: 'no-such-dataset@3', from: undefined, to: undefined }, 404, 'Dataset version'],
    [{ dataset: 'no-version', from: undefined, to: undefined }, 400, 'name@version'],
    [{ dataset: 'x@1' }, 400, '`from` and `to` apply to stored generations only'],
    [{ featureId: 'no-such-feature' }, 404, 'Feature "no-such-feature"'],
    [{ from: '2001-01-02T00:00:00Z', to: '2001-01-01T00:00:00Z' }, 400, '`from` must be before'],
    [{ from: 'yesterday' }, 400, 'ISO-8601'],
    [{ from: '1970-01-01T00:00:00Z', to: '1970-01-01T01:00:00Z' }, 400, 'No stored generation'],
    [{ temperature: 2 }, 400, 'temperature'],
  ])('refuses %j with %i', async (change, status, message) => {
    const res = await call(editorKey, 'POST', '/evals', { ...valid(), ...change });
    expect(res.status).toBe(status);
    expect(res.body.error?.message).toContain(message);
  });

  it('refuses bad ids and unknown runs', async () => {
    const bad = await call(viewerKey, 'GET', '/evals/not-a-uuid');
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toContain('UUID');
    expect((await call(viewerKey, 'GET', `/evals/${randomUUID()}`)).status).toBe(404);
    expect((await call(editorKey, 'POST', `/evals/${randomUUID()}/retry`)).status).toBe(404);
  });

  it('serves the console over tRPC: viewers read, editors queue', async () => {
    const as = async (role: 'viewer' | 'editor') => {
      const u = await makeUser(db(), role);
      return createCaller(contextFor(db(), { id: u.id, email: u.email, name: u.name, role }));
    };
    const viewer = await as('viewer');
    const editor = await as('editor');
    await expect(viewer.evals.create(valid())).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const run = await editor.evals.create(valid());
    queued.push(run.id);
    expect(run.status).toBe('queued');
    expect((await viewer.evals.get({ id: run.id })).id).toBe(run.id);
    expect((await viewer.evals.list({ limit: 200 })).some((r) => r.id === run.id)).toBe(true);
    await expect(editor.evals.create({ ...valid(), sample: 0 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    const options = await viewer.evals.options();
    expect(options.models.some((m) => m.label === 'flywheel-teacher/1')).toBe(true);
    const comparison = await viewer.evals.comparison();
    expect(Array.isArray(comparison.rows)).toBe(true);
  });
});
