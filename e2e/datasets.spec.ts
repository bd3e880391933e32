import { expect, test } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { e2eAdmin } from '../playwright.config';
import { signIn } from './helpers';

const PORT = Number(process.env.E2E_PORT ?? 3210);

/**
 * The app's embedded PostgreSQL (the folder comes from the test server's environment, the port
 * from its postmaster.pid), to seed feedback from an hour ago: a dataset version only reads rows
 * that have settled (its watermark lies at least the settle time in the past).
 */
function appDatabaseUrl(): string {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const dir = environ.find((e) => e.startsWith('EMBEDDED_DATABASE_DIR='))?.split('=')[1];
      if (!dir || !environ.includes(`PORT=${PORT}`)) continue;
      const port = readFileSync(path.join(dir, 'pgdata/postmaster.pid'), 'utf8').split('\n')[3];
      const password = readFileSync(path.join(dir, 'password'), 'utf8').trim();
      return `postgresql://flywheel:${encodeURIComponent(password)}@127.0.0.1:${port}/flywheel`;
    } catch {
      // Not our process, or it ended.
    }
  }
  throw new Error(`no app with an embedded database on port ${PORT}`);
}

/** Accepted suggestions of the inline feature with the text the users kept, an hour ago. */
async function seedKeptSuggestions(ns: string, count: number) {
  const client = new pg.Client({ connectionString: appDatabaseUrl() });
  await client.connect();
  try {
    for (let i = 0; i < count; i++) {
      const id = randomUUID();
      const at = new Date(Date.now() - 3_600_000 + i * 1000);
      const prompt = `Dear team, ${ns} note ${i}: thanks for the`;
      await client.query(
        `INSERT INTO generation (id, "featureId", "unitId", tier, prompt, output, "latencyMs", "createdAt")
         VALUES ($1, 'inline-completion', $2, 'primary', $3, ' quick update.', 42, $4)`,
        [id, `${ns}-unit-${i % 5}`, prompt, at],
      );
      const event = (type: string, payload: object, s: number) =>
        client.query(
          `INSERT INTO feedback_event (id, "clientEventId", "generationId", type, payload, "clientTs", "serverTs")
           VALUES ($1, $2, $3, $4, $5, $6, $6)`,
          [
            randomUUID(),
            `${ns}-${i}-${type}`,
            id,
            type,
            payload,
            new Date(at.getTime() + s * 1000),
          ],
        );
      await event('accepted', {}, 2);
      await event(
        'retention',
        { window: '30s', editDistance: 0.1, text: ` quick update ${i}.` },
        32,
      );
    }
  } finally {
    await client.end();
  }
}

test('an editor defines a dataset, builds it with live progress, previews and downloads a version', async ({
  page,
}) => {
  const ns = randomUUID().slice(0, 8);
  await seedKeptSuggestions(ns, 12);
  await signIn(page, e2eAdmin.email, e2eAdmin.password);
  await page.goto('/console/datasets');
  await expect(page.getByText('training data on').first()).toBeVisible();

  const name = `e2e-kept-${ns}`;
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Feature').selectOption('inline-completion');
  await page.getByLabel('Format (TRL)').selectOption('prompt-completion');
  await page.getByLabel('Seed').fill(ns);
  await page.getByLabel('Eval share (by unit)').fill('0.4');
  await page.getByRole('button', { name: 'Define dataset' }).click();

  const item = page.getByRole('listitem').filter({ hasText: name });
  await expect(item).toBeVisible();
  await item.getByRole('button', { name: 'Build' }).click();
  // Live progress: the build's status (queued → running with rows read → succeeded) is polled.
  await expect(item.getByText(/build (queued|running|succeeded)/)).toBeVisible();
  await expect(item.getByText('build succeeded')).toBeVisible({ timeout: 30_000 });
  await expect(item.getByText(/v1 [0-9a-f]{12}… \d+ rows/)).toBeVisible();

  await item.getByRole('button', { name }).click();
  const version = item.getByRole('row').filter({ hasText: 'v1' });
  await expect(version.getByRole('code')).toHaveText(/^[0-9a-f]{16}…$/);
  const digest = await version.getByRole('code').getAttribute('title');
  expect(digest).toMatch(/^[0-9a-f]{64}$/);
  await expect(version).toContainText(/train \d+/);
  await expect(version).toContainText(/eval \d+/);

  await version.getByRole('button', { name: 'Preview' }).click();
  await expect(item.locator('pre')).toContainText(`${ns} note`);
  await expect(item.locator('pre')).toContainText('quick update');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    version.getByRole('link', { name: 'train.jsonl' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(`${name}-v1-train.jsonl`);
  const lines = readFileSync(await download.path(), 'utf8')
    .trim()
    .split('\n');
  const train = Number(/train (\d+)/.exec((await version.textContent()) ?? '')?.[1]);
  expect(lines).toHaveLength(train);
  for (const line of lines)
    expect(Object.keys(JSON.parse(line) as object).sort()).toEqual(['completion', 'prompt']);
});
