import { expect, test } from '@playwright/test';
import { e2eAdmin } from '../playwright.config';
import { signIn } from './helpers';

test('an editor creates, starts, ramps and kills an experiment in the console', async ({
  page,
}) => {
  await signIn(page, e2eAdmin.email, e2eAdmin.password);
  await page.goto('/console/experiments');
  const form = page.getByTestId('create-experiment');
  // The worker's models are registered shortly after start.
  const versions = form.getByLabel('Arm 2 model version').locator('option');
  await expect(versions.filter({ hasText: 'flywheel-student/1' })).toHaveCount(1, {
    timeout: 60_000,
  });
  await form.getByLabel('Name', { exact: true }).fill('e2e: student against teacher');
  await form
    .getByLabel('Arm 1 model version')
    .selectOption(
      (await versions.filter({ hasText: 'flywheel-teacher/1' }).getAttribute('value')) ?? '',
    );
  await form
    .getByLabel('Arm 2 model version')
    .selectOption(
      (await versions.filter({ hasText: 'flywheel-student/1' }).getAttribute('value')) ?? '',
    );
  await form.getByLabel('Ramp (coverage per step, %)').fill('10, 50, 100');
  await form.getByLabel(/Assignment seed/).fill('e2e-seed-1');
  await form.getByLabel(/tightest at N\* units/).fill('400');
  await form.getByRole('button', { name: 'Create draft' }).click();
  await form.getByRole('link', { name: 'e2e: student against teacher' }).click();
  // The list shows statuses too (specs before this one leave experiments): wait for the page.
  await page.waitForURL(/\/console\/experiments\/[0-9a-f-]{36}$/);

  await expect(page.getByTestId('experiment-status')).toHaveText('draft');
  await expect(page.getByText('seed e2e-seed-1')).toBeVisible();
  await expect(page.getByText('tightest at N* = 400 units')).toBeVisible();
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('experiment-status')).toHaveText('running');
  const ramp = page.getByRole('list', { name: 'Ramp' }).locator('li');
  await expect(ramp.nth(0)).toHaveClass(/bg-indigo-600/);
  // The page says why the step has not moved, from the guardrail job's first check (≤ 10 s).
  const rampState = page.getByTestId('ramp-state');
  await expect(rampState).toContainText('Ramp step 1 of 3');
  await expect(rampState).toContainText(/step 1 (has run 0 of \d+ minutes|waits for)/, {
    timeout: 30_000,
  });
  await page.getByRole('button', { name: 'Ramp up' }).click();
  await expect(ramp.nth(1)).toHaveClass(/bg-indigo-600/);
  await expect(rampState).toContainText('Ramp step 2 of 3');
  await page.getByRole('button', { name: 'Kill (all traffic to default)' }).click();
  await expect(page.getByTestId('experiment-status')).toHaveText('rolled back');
  await expect(page.getByTestId('status-reason')).toContainText('Killed');
  const history = page.getByTestId('history');
  for (const action of ['kill', 'advance', 'start', 'create'])
    await expect(history).toContainText(action);
});

test("an editor changes a feature's default version, which says who set it", async ({ page }) => {
  await signIn(page, e2eAdmin.email, e2eAdmin.password);
  await page.goto('/console/experiments');
  // Exact names: the dashboards spec seeds features such as 'seed-rewrite' on the same app.
  const select = page.getByLabel('rewrite default version', { exact: true });
  // The mirror of the features points it at the chain's first model once the worker is listed.
  await expect(select.locator('option:checked')).toHaveText(/flywheel-teacher\/1/, {
    timeout: 60_000,
  });
  const row = page
    .getByTestId('feature-row')
    .filter({ has: page.getByText('rewrite', { exact: true }) });
  const option = async (label: string) =>
    (await select.locator('option').filter({ hasText: label }).getAttribute('value')) ?? '';
  await select.selectOption(await option('flywheel-student/1'));
  await expect(select.locator('option:checked')).toHaveText(/flywheel-student\/1/);
  await expect(row.getByTestId('default-change')).toContainText(`set by ${e2eAdmin.email}`);
  await page.reload();
  await expect(
    page.getByLabel('rewrite default version', { exact: true }).locator('option:checked'),
  ).toHaveText(/flywheel-student\/1/);
  // Back as it was, for the specs after this one.
  await page
    .getByLabel('rewrite default version', { exact: true })
    .selectOption(await option('flywheel-teacher/1'));
  await expect(
    page.getByLabel('rewrite default version', { exact: true }).locator('option:checked'),
  ).toHaveText(/flywheel-teacher\/1/);
});
