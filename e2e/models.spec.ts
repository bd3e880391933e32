import { expect, test } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { e2eAdmin } from '../playwright.config';
import { signIn } from './helpers';

test('a distilled version registered with its lineage shows v1 → dataset version → v2 on the Models page', async ({
  page,
}) => {
  await signIn(page, e2eAdmin.email, e2eAdmin.password);
  const name = `e2e-distilled-${randomUUID().slice(0, 8)}`;
  const digest = (c: string) => `sha256:${c.repeat(64)}`;
  // What `npm run distill` sends after a run (flywheel.json's digest and lineage).
  const registration = {
    name,
    version: '2',
    artifactDigest: digest('b'),
    lineage: {
      dataset: { id: randomUUID(), name: 'inline-kept', version: 3, contentDigest: 'c'.repeat(64) },
      teacher: { model: 'flywheel-teacher', digest: digest('a'), url: 'http://127.0.0.1:8001/v1' },
      student_init: { model: 'flywheel-student/1', digest: digest('d') },
      loss: { beta: 1, mode: 'partition', k: 20, temperature: 1, sft_weight: 0.1 },
      on_policy: 0.5,
      seed: 7,
      steps: 40,
      eval_divergence: { before: 0.0676, after: 0.0612, prompts: 16 },
    },
  };
  const response = await page.request.post('/api/trpc/models.register', {
    data: { json: registration },
  });
  expect(response.status()).toBe(200);
  const refused = await page.request.post('/api/trpc/models.register', {
    data: { json: { ...registration, artifactDigest: digest('e') } },
  });
  expect(refused.status()).toBe(409);

  await page.goto('/console/models');
  const row = page.getByRole('row').filter({ hasText: `${name}/2` });
  const lineage = row.getByTestId('lineage');
  await expect(lineage).toContainText(`flywheel-student/1 ${'d'.repeat(12)}`);
  await expect(lineage).toContainText(`dataset inline-kept v3 ${'c'.repeat(12)}`);
  await expect(lineage).toContainText(`${name}/2 ${'b'.repeat(12)}`);
  await expect(lineage).toContainText(`teacher flywheel-teacher ${'a'.repeat(12)}`);
  await expect(lineage).toContainText('reverse KL (top-20, partition) · on-policy 0.5');
  await expect(lineage).toContainText('eval divergence 0.068 → 0.061');
});
