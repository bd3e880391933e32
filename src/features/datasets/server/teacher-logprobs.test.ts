/**
 * Teacher top-k logprobs in an export: the real worker (tiny test model) scores each kept
 * completion through the OpenAI-compatible API; a rebuild gives the same bytes; a teacher that
 * does not answer fails the build with the reason and leaves no version.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnEachDatabase } from '~/test/databases';
import { startWorker, type WorkerProcess } from '~/test/worker-process';
import { buildNow, createDataset } from './datasets-service';
import {
  FIXTURE_FEATURE,
  FIXTURE_START,
  fixtureNamespace,
  seedFeedback,
} from './testing/dataset-fixtures';

const WATERMARK = new Date(FIXTURE_START + 30 * 86_400_000);
const actor = { type: 'system' as const, userId: null };
let worker: WorkerProcess;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flywheel-teacher-lp-'));
  worker = await startWorker({
    MODEL_REPOSITORY: path.resolve('inference/testdata/models'),
  });
}, 180_000);
afterAll(async () => {
  await worker.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Row {
  prompt: string;
  completion: string;
  teacher_tokens: string[];
  teacher_token_logprobs: number[];
  teacher_top_tokens: string[][];
  teacher_top_logprobs: number[][];
}

describeOnEachDatabase('dataset exports with teacher top-k logprobs', ({ db }) => {
  it('scores each kept completion, rebuilds to the same digest, fails cleanly when the teacher is down', async () => {
    const ns = fixtureNamespace();
    const { modelVersionId } = await seedFeedback(db(), ns, 6, 5);
    const definition = {
      featureId: FIXTURE_FEATURE,
      modelVersionIds: [modelVersionId],
      seed: 'kd',
      format: 'prompt-completion' as const,
      evalFraction: 0.3,
      teacherLogprobs: { model: 'tiny-random', k: 3 },
    };
    await expect(
      createDataset(db(), actor, {
        name: `kd-bad-${ns}`,
        definition: { ...definition, format: 'preference' },
      }),
    ).rejects.toThrow('use the prompt-completion format');
    const name = `kd-${ns}`;
    await createDataset(db(), actor, { name, definition });
    const build = (teacherBaseUrl: string) =>
      buildNow(db(), actor, { dataset: name, watermark: WATERMARK }, { dir, teacherBaseUrl });

    const first = await build(worker.baseUrl);
    const folder = path.join(dir, first.id);
    const rows = (await readFile(path.join(folder, 'train.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Row);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      const n = r.teacher_tokens.length;
      expect(n).toBeGreaterThan(0);
      expect(r.completion.endsWith(r.teacher_tokens.join(''))).toBe(true);
      expect(
        [r.teacher_token_logprobs, r.teacher_top_tokens, r.teacher_top_logprobs].map(
          (c) => c.length,
        ),
      ).toEqual([n, n, n]);
      for (const [j, top] of r.teacher_top_logprobs.entries()) {
        expect(top.length).toBeGreaterThan(0);
        expect(top.length).toBeLessThanOrEqual(3);
        expect(top).toEqual([...top].sort((a, b) => b - a));
        expect(top.every((v) => v <= 0 && Number.isFinite(v))).toBe(true);
        expect(r.teacher_top_tokens[j]).toHaveLength(top.length);
      }
    }
    const health = (await (await fetch(`${worker.baseUrl}/health`)).json()) as {
      models: { id: string; digest: string | null }[];
    };
    const manifest = JSON.parse(await readFile(path.join(folder, 'manifest.json'), 'utf8')) as {
      teacher: unknown;
      columns: string[];
    };
    expect(manifest.teacher).toEqual({
      model: 'tiny-random',
      k: 3,
      digest: health.models.find((m) => m.id.startsWith('tiny-random'))?.digest ?? null,
    });
    expect(manifest.columns).toContain('teacher_top_logprobs');

    // Same definition, watermark and teacher: the same bytes.
    const again = await build(worker.baseUrl);
    expect(again.contentDigest).toBe(first.contentDigest);

    // The teacher is down: the build fails with the reason, and no version is added.
    await expect(build('http://127.0.0.1:9')).rejects.toThrow(/could not score the rows/);
    const versions = await db().datasetVersion.count({ where: { dataset: { name } } });
    expect(versions).toBe(2);
    const failed = await db().datasetBuild.findFirst({
      where: { dataset: { name }, status: 'failed' },
    });
    expect(failed?.error).toMatch(/teacher "tiny-random" .* could not score the rows/);
  }, 120_000);
});
