import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '~/features/settings/server/api-key-service';
import { createPublicApi } from '~/composition/public-api';
import { createCaller } from '~/composition/root';
import { contextFor } from '~/server/trpc';
import { describeOnEachDatabase, makeUser } from '~/test/databases';
import { createDatasetJob } from './dataset-job';
import { DEFAULT_DATASETS_DIR } from './dataset-files';
import {
  FIXTURE_FEATURE,
  FIXTURE_START,
  fixtureNamespace,
  seedFeedback,
} from './testing/dataset-fixtures';

const WATERMARK = new Date(FIXTURE_START + 30 * 86_400_000).toISOString();

describeOnEachDatabase('datasets over tRPC and /api/v1', ({ db }) => {
  const made: string[] = [];
  afterAll(async () => {
    await Promise.all(
      made.map((id) => rm(path.join(DEFAULT_DATASETS_DIR, id), { recursive: true, force: true })),
    );
  });
  const call = (key: string | null, method: string, url: string, body?: unknown) =>
    createPublicApi(db).fetch(
      new Request(`http://localhost/api/v1${url}`, {
        method,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          'content-type': 'application/json',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );

  it('defines, builds as a job, polls and streams the files with an API key; refuses what it must', async () => {
    const ns = fixtureNamespace();
    const { modelVersionId } = await seedFeedback(db(), ns, 6, 5);
    const user = await makeUser(db(), 'editor');
    const owner = { id: user.id, role: 'editor' as const };
    const editor = await createApiKey(db(), owner, { name: 'ml', role: 'editor' });
    const viewer = await createApiKey(db(), owner, { name: 'read', role: 'viewer' });
    const definition = {
      featureId: FIXTURE_FEATURE,
      modelVersionIds: [modelVersionId],
      seed: 'api',
      format: 'prompt-completion',
      evalFraction: 0.3,
    };
    const name = `api-${ns}`;

    expect((await call(viewer.key, 'POST', '/datasets', { name, definition })).status).toBe(403);
    const bad = await call(editor.key, 'POST', '/datasets', {
      name,
      definition: { ...definition, evalFraction: 2 },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { message: expect.stringContaining('evalFraction') },
    });
    expect((await call(editor.key, 'POST', '/datasets', { name, definition })).status).toBe(201);

    const queued = await call(editor.key, 'POST', `/datasets/${name}/builds`, {
      watermark: WATERMARK,
    });
    expect(queued.status).toBe(202);
    const build = (await queued.json()) as { id: string; status: string };
    expect(build.status).toBe('queued');
    expect(await createDatasetJob(db()).runNext()).toBe(build.id);
    const polled = (await (
      await call(viewer.key, 'GET', `/datasets/builds/${build.id}`)
    ).json()) as {
      status: string;
      versionId: string;
      rowsScanned: number;
    };
    expect(polled).toMatchObject({ status: 'succeeded', rowsScanned: 28 });
    made.push(polled.versionId);

    const download = async (file: string, key = viewer.key) =>
      call(key, 'GET', `/datasets/versions/${polled.versionId}/files/${file}`);
    const manifest = (await (await download('manifest.json')).json()) as {
      splits: { train: { sha256: string; rows: number } };
      contentDigest: string;
    };
    const train = await download('train.jsonl');
    expect(train.headers.get('content-type')).toContain('ndjson');
    expect(train.headers.get('x-content-digest')).toBe(manifest.contentDigest);
    const bytes = await train.text();
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(manifest.splits.train.sha256);
    expect(bytes.split('\n').filter(Boolean)).toHaveLength(manifest.splits.train.rows);

    // The folder is gone (another instance, a cleaned disk): rebuilt from the definition, same bytes.
    await rm(path.join(DEFAULT_DATASETS_DIR, polled.versionId), { recursive: true });
    expect(await (await download('train.jsonl')).text()).toBe(bytes);
    expect((await download('secrets.txt')).status).toBe(400);

    await revokeApiKey(db(), owner, viewer.id);
    expect((await download('train.jsonl')).status).toBe(401);

    // A definition that selects nothing: a clear 400 and no build.
    const emptyName = `api-empty-${ns}`;
    await call(editor.key, 'POST', '/datasets', {
      name: emptyName,
      definition: { ...definition, modelVersionIds: ['none'] },
    });
    const refused = await call(editor.key, 'POST', `/datasets/${emptyName}/builds`, {
      watermark: WATERMARK,
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      error: { message: expect.stringContaining('selects no generations') },
    });
  });

  it('serves the console over tRPC: list, get, preview; viewers read only', async () => {
    const ns = fixtureNamespace();
    const { modelVersionId } = await seedFeedback(db(), ns, 6, 5);
    const editorUser = await makeUser(db(), 'editor');
    const viewerUser = await makeUser(db(), 'viewer');
    const as = (u: typeof editorUser) =>
      createCaller(contextFor(db(), { id: u.id, email: u.email, name: u.name, role: u.role }));
    const name = `trpc-${ns}`;
    const definition = {
      featureId: FIXTURE_FEATURE,
      modelVersionIds: [modelVersionId],
      seed: 'trpc',
      format: 'preference' as const,
    };
    await expect(as(viewerUser).datasets.create({ name, definition })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await as(editorUser).datasets.create({ name, definition });
    await as(editorUser).datasets.requestBuild({ dataset: name, watermark: WATERMARK });
    await createDatasetJob(db()).runNext();
    const dataset = await as(viewerUser).datasets.get({ dataset: name });
    const version = dataset.versions[0]!;
    made.push(version.id);
    expect(version).toMatchObject({
      version: 1,
      contentDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const rows = (await as(viewerUser).datasets.preview({
      versionId: version.id,
      limit: 3,
    })) as Record<string, unknown>[];
    expect(rows.length).toBeGreaterThan(0);
    expect(Object.keys(rows[0]!).sort()).toEqual(['chosen', 'prompt', 'rejected']);
    expect((await as(viewerUser).datasets.list()).some((d) => d.name === name)).toBe(true);
    const features = await as(viewerUser).datasets.features();
    expect(features.find((f) => f.id === FIXTURE_FEATURE)?.trainingData).toBe(true);
  });
});
