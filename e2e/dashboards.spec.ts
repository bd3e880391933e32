import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { e2eAdmin } from '../playwright.config';
import { recentGenerations, signIn } from './helpers';

// The dashboards page with no rows, then with traffic written by `npm run seed:traffic` into the
// test app's own embedded database, read through the real rollups. A screenshot of each view goes
// to test-results/ (test output, git-ignored).
test.describe.configure({ mode: 'serial' });

const port = Number(process.env.E2E_PORT ?? 3210);

/** The embedded database folder of the app that playwright.config started (found by its port). */
function appDatabaseDir(): string {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (!environ.includes(`PORT=${port}`)) continue;
      const dir = environ.find((e) => e.startsWith('EMBEDDED_DATABASE_DIR='));
      if (dir) return dir.slice('EMBEDDED_DATABASE_DIR='.length);
    } catch {
      // The process ended or is not ours to read.
    }
  }
  throw new Error(`no app process on port ${port} with an embedded database`);
}

async function openDashboards(page: Page) {
  await signIn(page, e2eAdmin.email, e2eAdmin.password);
  await page.goto('/console/dashboards');
  await expect(page.getByRole('heading', { level: 1, name: 'Dashboards' })).toBeVisible();
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: `test-results/dashboards-${name}.png`, fullPage: true });

/** The versions listed in the per-version table, by label. */
async function versionLabels(page: Page) {
  const rows = page.getByTestId('version-row');
  await expect(rows.first()).toBeVisible();
  return (await rows.locator('td:first-child').allTextContents()).sort();
}

test('with no suggestions the page says what to do', async ({ page }) => {
  await openDashboards(page);
  // This spec runs on the test app's fresh database, before anything writes suggestions.
  expect(await recentGenerations(page), 'the database should have no suggestions yet').toEqual([]);
  const empty = page.getByTestId('dashboard-empty');
  await expect(empty).toContainText('No suggestions in this range.');
  await expect(empty).toContainText('npm run seed:traffic -- --suggestions 10000');
  await expect(page.getByRole('table', { name: 'Recent suggestions' })).toContainText(
    'No suggestions yet. Open the writing page and type.',
  );
  await expect(page.getByTestId('freshness')).toContainText('every stored event is counted');
  await shot(page, 'empty');
});

test('with seeded traffic every chart and table renders, filters change the data, two versions compare, CSV downloads', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const env: NodeJS.ProcessEnv = { ...process.env, EMBEDDED_DATABASE_DIR: appDatabaseDir() };
  delete env.DATABASE_URL;
  const seeded = execFileSync(
    'npx',
    ['tsx', 'scripts/seed-traffic.ts', '--suggestions', '3000', '--days', '7', '--seed', '11'],
    { env, encoding: 'utf8', timeout: 180_000 },
  );
  expect(seeded).toMatch(/Wrote 3000 generations and \d+ feedback events/);

  await openDashboards(page);
  await expect(page.getByTestId('freshness')).toContainText(/Rollups last folded \d+ (s|min) ago/);
  await expect(page.getByTestId('freshness')).toContainText('every stored event is counted');
  const all = await versionLabels(page);
  expect(all).toEqual(['seed-student/1', 'seed-student/2', 'seed-teacher/1']);
  // Every chart draws its series: lines per version, stacked tier areas, bars per latency bucket.
  const charts = page.locator('figure');
  await expect(charts).toHaveCount(6);
  for (const figure of await charts.all()) {
    await expect(figure.getByRole('application')).toBeVisible();
    await expect(
      figure.locator('.recharts-line-curve, .recharts-area-area, .recharts-bar-rectangle').first(),
    ).toBeVisible();
  }
  await expect(page.locator('figure').first().locator('.recharts-line-curve')).toHaveCount(3);
  await expect(page.getByRole('table', { name: 'Recent suggestions' })).toContainText('seed-');
  await shot(page, 'all');

  // Filters change the data: one feature, then one experiment arm.
  const opportunities = async () =>
    (await page.getByTestId('version-row').locator('td:nth-child(2)').allTextContents()).map((t) =>
      Number(t.replaceAll(',', '')),
    );
  const before = await opportunities();
  await page.getByLabel('Feature', { exact: true }).selectOption('seed-rewrite');
  await expect.poll(() => versionLabels(page)).toEqual(['seed-teacher/1']);
  const rewrite = await opportunities();
  expect(rewrite[0]).toBeGreaterThan(0);
  expect(rewrite[0]).toBeLessThan(before.reduce((a, b) => a + b, 0));
  await shot(page, 'feature');
  await page.getByLabel('Feature', { exact: true }).selectOption('seed-inline-completion');
  await page
    .getByLabel('Experiment arm', { exact: true })
    .selectOption({ label: 'Seeded student v1 vs v2 (11) · treatment' });
  await expect.poll(() => versionLabels(page)).toEqual(['seed-student/2']);
  await shot(page, 'arm');
  await page.getByLabel('Experiment arm', { exact: true }).selectOption('');
  await page.getByLabel('Time range', { exact: true }).selectOption('24h');
  await expect(page.getByLabel('Time range', { exact: true })).toHaveValue('24h');
  await expect
    .poll(async () => (await opportunities()).reduce((a, b) => a + b, 0))
    .toBeLessThan(before.reduce((a, b) => a + b, 0));
  await page.getByLabel('Time range', { exact: true }).selectOption('7d');

  // Two versions side by side.
  await page.getByLabel('Model version', { exact: true }).selectOption({ label: 'seed-student/1' });
  await page.getByLabel('Compare with', { exact: true }).selectOption({ label: 'seed-student/2' });
  await expect.poll(() => versionLabels(page)).toEqual(['seed-student/1', 'seed-student/2']);
  const comparison = page.getByRole('table', { name: 'Version comparison' });
  await expect(comparison).toContainText('seed-student/2');
  await expect(comparison.getByRole('row', { name: /^Acceptance / })).toContainText(
    /[+-]\d+\.\d pts/,
  );
  await expect(page.locator('figure').first().locator('.recharts-line-curve')).toHaveCount(2);
  await shot(page, 'compare');

  // CSV export of the per-version table.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('dashboard-versions.csv');
  const csv = readFileSync(await download.path(), 'utf8').split('\n');
  expect(csv[0]).toMatch(/^version,opportunities,shown,acceptance,/);
  expect(
    csv
      .slice(1)
      .map((line) => line.split(',')[0])
      .sort(),
  ).toEqual(['seed-student/1', 'seed-student/2']);
  const [series] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export time series CSV' }).click(),
  ]);
  expect(series.suggestedFilename()).toBe('dashboard-series.csv');
  expect(readFileSync(await series.path(), 'utf8').split('\n').length).toBeGreaterThan(10);
});

test('bad filters in the URL of the API answer 400 with the reason, never a 500', async ({
  page,
}) => {
  await signIn(page, e2eAdmin.email, e2eAdmin.password);
  const get = (input: unknown) =>
    page.request.get(
      `/api/trpc/dashboards.metrics?input=${encodeURIComponent(JSON.stringify({ json: input }))}`,
    );
  const to = new Date().toISOString();
  for (const [input, message] of [
    [{ from: to, to: new Date(Date.now() - 3_600_000).toISOString() }, /inverted/],
    [{ from: '1999-01-01T00:00:00Z', to }, /before 2000-01-01/],
    [{ from: '2020-01-01T00:00:00Z', to }, /longer than 93 days/],
    [{ from: '2026-01-01T00:00:00Z', to, colour: 'red' }, /colour/],
  ] as const) {
    const response = await get(input);
    expect(response.status(), JSON.stringify(input)).toBe(400);
    expect(JSON.stringify(await response.json())).toMatch(message);
  }
});
