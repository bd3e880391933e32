import { randomUUID } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { e2eAdmin, e2eSettleMs } from '../playwright.config';
import { signIn } from './helpers';

const SUGGESTIONS = 30;
// Evals read generations stored at least the settle time ago (late rows could change the sample).
const SETTLE_MS = e2eSettleMs;

async function trpc(page: Page, path: string, input: unknown) {
  const res = await page.request.post(`/api/trpc/${path}`, { data: { json: input } });
  expect(res.status(), `${path}: ${await res.text()}`).toBe(200);
  return ((await res.json()) as { result: { data: { json: unknown } } }).result.data.json;
}

/** End-user traffic through the real suggestion path, each accepted and its text kept (edited). */
async function makeTraffic(page: Page) {
  for (let i = 0; i < SUGGESTIONS; i++) {
    const unitId = `e2e-evals-${randomUUID()}`;
    const answer = (await trpc(page, 'suggestions.complete', {
      featureId: 'inline-completion',
      unitId,
      textBefore: `Dear team, thank you for the ${['update', 'report', 'notes'][i % 3]} on item ${i}. Please`,
    })) as { generationId: string | null; text: string };
    if (!answer.generationId || answer.text === '') continue;
    const kept = i % 2 === 0 ? answer.text : `${answer.text.trimEnd()} soon`;
    const now = Date.now();
    const event = (type: string, payload: object) => ({
      type,
      clientEventId: randomUUID(),
      generationId: answer.generationId,
      clientTs: now,
      payload,
    });
    await trpc(page, 'feedback.ingest', {
      unitId,
      events: [
        event('shown', { gateMs: 750, responseToShownMs: 12 }),
        event('accepted', { shownToDecisionMs: 800, acceptedChars: answer.text.length }),
        event('retention', {
          window: '2m',
          editDistance: i % 2 === 0 ? 0 : 0.2,
          retainedChars: answer.text.length,
          acceptedChars: answer.text.length,
          text: kept,
        }),
      ],
    });
  }
}

test('an editor queues an eval of logged prompts and follows it to its metrics', async ({
  page,
}) => {
  test.setTimeout(SETTLE_MS + 180_000);
  await signIn(page, e2eAdmin.email, e2eAdmin.password);
  await page.goto('/console/evals');
  await expect(page.getByText('No eval yet')).toBeVisible();
  const form = page.getByRole('form', { name: 'Queue an eval' });
  // The worker's models are registered shortly after start.
  await expect(form.getByLabel('Candidate model version').locator('option')).not.toHaveCount(0, {
    timeout: 60_000,
  });
  await form.getByLabel('Candidate model version').selectOption('flywheel-teacher/1');

  // Nothing logged for the feature: a clear refusal, no run. (Rewrite, since specs that ran
  // before this one on the same app leave completion traffic.)
  const feature = form.getByLabel('Feature (generations)');
  await feature.selectOption('rewrite');
  await form.getByRole('button', { name: 'Queue eval' }).click();
  await expect(form.getByRole('alert')).toContainText('has feedback with a kept text');
  await expect(page.getByText('No eval yet')).toBeVisible();
  await feature.selectOption('inline-completion');

  const madeAt = Date.now();
  await makeTraffic(page);
  // Queuing only works once the traffic is older than the settle time.
  await page.waitForTimeout(Math.max(0, madeAt + SETTLE_MS + 5_000 - Date.now()));

  await form.getByLabel('Sample size').fill(String(SUGGESTIONS));
  await form.getByLabel('Seed', { exact: true }).fill('e2e');
  await form.getByRole('button', { name: 'Queue eval' }).click();
  const row = page.getByTestId('eval-runs').locator('tbody tr').first();
  await expect(row).toContainText('flywheel-teacher/1');
  // Progress while the job runs it, then the metrics.
  await expect(row.getByTestId('eval-status')).toHaveText('running', { timeout: 30_000 });
  await expect(row.getByTestId('eval-status')).toHaveText('succeeded', { timeout: 120_000 });
  await expect(row.getByTestId('eval-progress')).toHaveText(/^(\d+)\/\1$/);
  await expect(row.getByTestId('eval-chrf')).toHaveText(/^\d+\.\d$/);

  // Beside the online numbers of the same version (the rollups of the traffic just made).
  const comparison = page.getByTestId('offline-vs-online');
  await expect(comparison).toContainText('flywheel-teacher/1');
  await expect(comparison.getByTestId('online-acceptance').first()).toHaveText(/^\d+\.\d%$/, {
    timeout: 30_000,
  });
  await page.screenshot({ path: test.info().outputPath('evals.png'), fullPage: true });
});
