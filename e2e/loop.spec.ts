import { expect, test } from '@playwright/test';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The closed loop in CI: `npm run demo:loop -- --quick` starts its own product (the app the web
// server above just built, a fresh embedded database, the worker, a guardrail job every 2 s),
// runs every step through the product's API while simulated writers type, and keeps serving
// (--serve); then the console must tell the story: dashboards, the experiments with their ramp and
// guardrail history, the dataset with its version, the models with lineage v1 → dataset → v2.
const PASSWORD = 'loop-e2e-admin-password';
const EMAIL = 'admin@loop.local';

interface Summary {
  appUrl: string;
  datasetDigest: string;
  modelDigest: string;
  decision: string;
  steps: { step: string; facts: Record<string, unknown> }[];
}

test('after a quick loop the console tells the story', async ({ page }) => {
  test.setTimeout(14 * 60_000);
  const json = path.join(os.tmpdir(), `flywheel-loop-e2e-${process.pid}-${Date.now()}.json`);
  const loop = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/demo-loop.ts',
      '--quick',
      '--seed',
      'e2e',
      '--serve',
      '--json',
      json,
      '--admin-email',
      EMAIL,
      '--admin-password',
      PASSWORD,
      // The web server above has just built the app.
      '--no-build',
      // This checks the story the console tells, not people's patience: generous patience keeps
      // it independent of how loaded the machine is.
      '--patience-scale',
      '3',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  loop.stdout.on('data', (d: Buffer) => (output += d.toString()));
  loop.stderr.on('data', (d: Buffer) => (output += d.toString()));
  try {
    const started = Date.now();
    while (!existsSync(json)) {
      if (loop.exitCode !== null) throw new Error(`demo:loop exited ${loop.exitCode}:\n${output}`);
      if (Date.now() - started > 11 * 60_000)
        throw new Error(`demo:loop took too long:\n${output}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const wall = (Date.now() - started) / 1000;
    console.log(output);
    console.log(`demo:loop --quick reached its summary in ${wall.toFixed(0)} s`);
    const summary = JSON.parse(readFileSync(json, 'utf8')) as Summary;
    expect(summary.datasetDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(summary.modelDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const bad = summary.steps.find((s) => s.step.startsWith('1b'))!;
    expect(bad.facts.status).toBe('rolled_back');
    const app = summary.appUrl;

    await page.goto(`${app}/sign-in`);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/console/);

    // Dashboards: the writers' traffic per version.
    await page.goto(`${app}/console/dashboards`);
    const perVersion = page.getByRole('table', { name: 'Metrics per model version' });
    await expect(perVersion).toContainText('flywheel-student/1');

    // Experiments: the baseline (promoted), the bad candidate (rolled back by the guardrail job)
    // and v2 against v1 with its ramp and history.
    await page.goto(`${app}/console/experiments`);
    const experiment = (name: string) => page.getByRole('link', { name: `Loop e2e: ${name}` });
    await expect(experiment('writers on v1')).toBeVisible();
    await expect(experiment('unreachable candidate')).toBeVisible();
    await expect(experiment('v2 against v1')).toBeVisible();
    // The feature's default was last set by a promotion: the baseline's (v1), or v2's if it won.
    await expect(page.getByTestId('default-change').first()).toContainText(
      /Loop e2e: (writers on v1|v2 against v1)/,
    );
    await experiment('unreachable candidate').click();
    const history = page.getByTestId('history');
    await expect(history.getByText('by the guardrail job').first()).toBeVisible();
    await expect(history).toContainText(/fallback|latency|rolled back/i);
    await page.goto(`${app}/console/experiments`);
    await experiment('v2 against v1').click();
    await expect(page.getByRole('list', { name: 'Ramp' }).locator('li')).toHaveCount(2);
    // The demo held step 1 until its texts were written; the guardrail job then ramped it up.
    const rampHistory = page.getByTestId('history');
    await expect(rampHistory.getByText(/holds ramp step 1/).first()).toBeVisible();
    await expect(
      rampHistory.locator('li', { hasText: 'ramp by the guardrail job' }).first(),
    ).toBeVisible();

    // Datasets: the version built from the writers' feedback, with its digest.
    await page.goto(`${app}/console/datasets`);
    await expect(page.getByText('loop-e2e').first()).toBeVisible();
    await page.getByText('loop-e2e').first().click();
    await expect(page.getByText(summary.datasetDigest.slice(0, 12)).first()).toBeVisible();

    // Models: v2 with its lineage v1 → dataset version → v2.
    await page.goto(`${app}/console/models`);
    const lineage = page.getByTestId('lineage').first();
    await expect(lineage).toContainText('flywheel-student/1');
    await expect(lineage).toContainText('dataset loop-e2e v1');
    await expect(lineage).toContainText(summary.modelDigest.replace('sha256:', '').slice(0, 12));
  } finally {
    loop.kill('SIGTERM');
    await new Promise<void>((resolve) =>
      loop.exitCode !== null ? resolve() : loop.once('exit', () => resolve()),
    );
  }
});
