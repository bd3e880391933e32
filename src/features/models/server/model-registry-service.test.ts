import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { createApiKey } from '~/features/settings/server/api-key-service';
import { createPublicApi } from '~/composition/public-api';
import { toPublicError } from '~/server/errors';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { readLineage } from '../lineage';
import { registerModelVersion, registerServedModels } from './model-registry-service';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const lineage = {
  dataset: { id: randomUUID(), name: 'inline-kept', version: 3, contentDigest: 'ab'.repeat(32) },
  teacher: { model: 'flywheel-teacher', digest: digest('1'), url: 'http://127.0.0.1:8001/v1' },
  student_init: {
    model: 'flywheel-student/1',
    folder: 'inference/models/flywheel-student/1',
    digest: digest('2'),
  },
  loss: { beta: 1, mode: 'partition', k: 20, temperature: 1, sft_weight: 0.2 },
  on_policy: 0.5,
  seed: 7,
  steps: 40,
  eval_divergence: { before: 0.9, after: 0.6, prompts: 16 },
  batches: { on_policy: 21, teacher_sampled: 19 },
};

describeOnEachDatabase('model registry: trained versions with lineage', ({ db }) => {
  const call = (key: string, body: unknown) =>
    createPublicApi(db).fetch(
      new Request('http://localhost/api/v1/models/versions', {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    );

  it('registers over /api/v1 with an editor key, completes a worker-listed row, refuses another digest', async () => {
    const name = `distilled-${randomUUID().slice(0, 8)}`;
    const user = await makeUser(db(), 'editor');
    const owner = { id: user.id, role: 'editor' as const };
    const editor = await createApiKey(db(), owner, { name: 'trainer', role: 'editor' });
    const viewer = await createApiKey(db(), owner, { name: 'read', role: 'viewer' });
    // The worker listed the folder first: the app knows the version without its lineage.
    await registerServedModels(db(), [{ id: `${name}/1`, root: null }]);
    const body = { name, version: '1', artifactDigest: digest('c'), lineage };

    expect((await call(viewer.key, body)).status).toBe(403);
    const bad = await call(editor.key, { ...body, lineage: { ...lineage, on_policy: 2 } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('on_policy');
    expect((await call(editor.key, { ...body, artifactDigest: 'md5:x' })).status).toBe(400);

    const created = await call(editor.key, body);
    expect(created.status).toBe(201);
    const rows = await db().modelVersion.findMany({ where: { name } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'registered', artifactDigest: digest('c') });
    expect(readLineage(rows[0]!.lineage)).toMatchObject({
      dataset: { name: 'inline-kept', version: 3 },
      teacher: { digest: digest('1') },
      on_policy: 0.5,
      batches: { on_policy: 21 },
    });
    // Registering the same weights again is a no-op; other weights under the same version are not.
    expect((await call(editor.key, body)).status).toBe(201);
    const conflict = await call(editor.key, { ...body, artifactDigest: digest('d') });
    expect(conflict.status).toBe(409);
    expect(JSON.stringify(await conflict.json())).toContain('new version');
    const audit = await db().auditLog.count({
      where: { entityId: rows[0]!.id, action: 'model_version.register' },
    });
    expect(audit).toBe(2);
  });

  it('concurrent registrations of one new version end in one row', async () => {
    const name = `race-${randomUUID().slice(0, 8)}`;
    const actor = { type: 'system' as const, userId: null };
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () =>
        registerModelVersion(db(), actor, {
          name,
          version: '2',
          artifactDigest: digest('e'),
          lineage,
        }),
      ),
    );
    // A lost race on the unique key is a 409 the caller retries, never a second row.
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
    for (const r of results)
      if (r.status === 'rejected') expect(toPublicError(r.reason).status).toBe(409);
    expect(await db().modelVersion.count({ where: { name } })).toBe(1);
  });
});
