import { expect, test, type Page } from '@playwright/test';
import { e2eAdmin } from '../playwright.config';
import { signIn } from './helpers';

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in/);
}

test('a signed-out visitor is sent to sign-in, and wrong credentials are refused', async ({
  page,
}) => {
  await page.goto('/console/models');
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await page.getByLabel('Email').fill(e2eAdmin.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: /\S/ })).toHaveText(
    'Wrong email or password.',
  );
});

test('an admin signs in, walks the console, makes a viewer and an API key', async ({ page }) => {
  await signIn(page, e2eAdmin.email, e2eAdmin.password);
  await expect(page.getByTestId('current-user')).toHaveText(e2eAdmin.email);

  const nav = page.getByRole('navigation', { name: 'Console' });
  for (const section of ['Models', 'Experiments', 'Dashboards', 'Datasets', 'Settings']) {
    await nav.getByRole('link', { name: section }).click();
    await expect(page.getByRole('heading', { level: 1, name: section })).toBeVisible();
  }

  await page.getByRole('link', { name: 'API keys' }).click();
  await page.getByLabel('Name').fill('e2e key');
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByTestId('new-api-key')).toHaveText(/^fw_/);
  const key = await page.getByTestId('new-api-key').textContent();
  const whoami = await page.request.get('/api/v1/me', {
    headers: { authorization: `Bearer ${key}` },
  });
  expect(whoami.status()).toBe(200);
  await page.getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByText('revoked')).toBeVisible();
  expect(
    (
      await page.request.get('/api/v1/me', { headers: { authorization: `Bearer ${key}` } })
    ).status(),
  ).toBe(401);

  await page.goto('/console/settings/users');
  await page.getByLabel('Name').fill('Vera Viewer');
  await page.getByLabel('Email').fill('vera@e2e.local');
  await page.getByLabel('Initial password').fill('vera-password-123');
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByRole('cell', { name: 'vera@e2e.local' })).toBeVisible();
  await signOut(page);

  // The viewer sees the console but not user administration.
  await signIn(page, 'vera@e2e.local', 'vera-password-123');
  await page
    .getByRole('navigation', { name: 'Console' })
    .getByRole('link', { name: 'Settings' })
    .click();
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await page.goto('/console/settings/users');
  await expect(page).toHaveURL(/\/console\/forbidden/);
  const refused = await page.request.get('/api/trpc/settings.users.list');
  expect(refused.status()).toBe(403);
});

test('the end-user writing page renders for anyone', async ({ page }) => {
  await page.goto('/write');
  await expect(page.getByRole('heading', { name: 'New note' })).toBeVisible();
  await expect(page.getByLabel('Message')).toBeVisible();
});

test('unknown pages answer 404', async ({ page }) => {
  const response = await page.goto('/no-such-page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});

test('a deep link survives signing in, and the console loads without a 404', async ({ page }) => {
  const missing: string[] = [];
  page.on('response', (r) => {
    if (r.status() === 404) missing.push(r.url());
  });
  await page.goto('/console/settings/api-keys?from=deep-link');
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await page.getByLabel('Email').fill(e2eAdmin.email);
  await page.getByLabel('Password').fill(e2eAdmin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/console\/settings\/api-keys\?from=deep-link$/);
  await expect(page.getByRole('heading', { level: 1, name: 'API keys' })).toBeVisible();

  // The icon the page names loads; nothing the console asked for was missing.
  const icon = await page.locator('link[rel="icon"]').first().getAttribute('href');
  expect((await page.request.get(icon!)).status()).toBe(200);
  expect(missing).toEqual([]);
  await page
    .getByRole('navigation', { name: 'Console' })
    .getByRole('link', { name: /writing page/ })
    .click();
  await expect(page).toHaveURL(/\/write$/);

  // A `next` pointing off the site is ignored.
  await page.context().clearCookies();
  await page.goto('/sign-in?next=//evil.example/phish');
  await page.getByLabel('Email').fill(e2eAdmin.email);
  await page.getByLabel('Password').fill(e2eAdmin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/console$/);
});

test('an API key can be copied, and the form is empty for the next one', async ({
  page,
  context,
}) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await signIn(page, e2eAdmin.email, e2eAdmin.password);
  await page.goto('/console/settings/api-keys');
  await page.getByLabel('Name').fill('copied key');
  await page.getByLabel('Role').selectOption('editor');
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = await page.getByTestId('new-api-key').textContent();
  expect(key).toMatch(/^fw_/);
  await expect(page.getByLabel('Name')).toHaveValue('');
  await expect(page.getByLabel('Role')).toHaveValue('viewer');
  await page.getByRole('button', { name: 'Copy' }).click();
  await expect(page.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
});

test('an admin disables, re-enables, resets the password of and removes a user', async ({
  page,
  browser,
}) => {
  const email = `dora-${Date.now()}@e2e.local`;
  await signIn(page, e2eAdmin.email, e2eAdmin.password);
  await page.goto('/console/settings/users');
  await page.getByLabel('Name').fill('Dora Disabled');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Initial password').fill('dora-password-123');
  await page.getByRole('button', { name: 'Add user' }).click();
  const row = page.getByTestId(`user-${email}`);
  await expect(row).toBeVisible();
  await expect(page.getByLabel('Email')).toHaveValue('');

  // Dora signs in elsewhere; disabling her ends that session and refuses the next sign-in.
  const dora = await browser.newContext();
  const doraPage = await dora.newPage();
  await signIn(doraPage, email, 'dora-password-123');
  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(row.getByRole('cell', { name: 'disabled', exact: true })).toBeVisible();
  expect((await doraPage.request.get('/api/trpc/me')).status()).toBe(200);
  expect(await (await doraPage.request.get('/api/trpc/me')).json()).toMatchObject({
    result: { data: { json: null } },
  });
  await doraPage.goto('/sign-in');
  await doraPage.getByLabel('Email').fill(email);
  await doraPage.getByLabel('Password').fill('dora-password-123');
  await doraPage.getByRole('button', { name: 'Sign in' }).click();
  await expect(doraPage.getByRole('alert').filter({ hasText: /\S/ })).toHaveText(
    /account is disabled/,
  );

  // The admin has no Disable or Remove on their own row.
  const mine = page.getByTestId(`user-${e2eAdmin.email}`);
  await expect(mine.getByRole('button', { name: 'Disable' })).toHaveCount(0);
  await expect(mine.getByRole('button', { name: 'Remove', exact: true })).toHaveCount(0);

  // Enabled again with a new password: only the new one works.
  await row.getByRole('button', { name: 'Enable' }).click();
  await expect(row.getByRole('cell', { name: 'active', exact: true })).toBeVisible();
  await row.getByRole('button', { name: 'Reset password' }).click();
  await row.getByLabel(`New password for ${email}`).fill('dora-new-password-456');
  await row.getByRole('button', { name: 'Set', exact: true }).click();
  await expect(row.getByRole('status')).toHaveText(/Password changed/);
  await doraPage.getByLabel('Password').fill('dora-password-123');
  await doraPage.getByRole('button', { name: 'Sign in' }).click();
  await expect(doraPage.getByRole('alert').filter({ hasText: /\S/ })).toHaveText(
    'Wrong email or password.',
  );
  await doraPage.getByLabel('Password').fill('dora-new-password-456');
  await doraPage.getByRole('button', { name: 'Sign in' }).click();
  await expect(doraPage).toHaveURL(/\/console/);
  await dora.clearCookies();

  // Removed: gone from the list, and she cannot sign in.
  await row.getByRole('button', { name: 'Remove', exact: true }).click();
  await row.getByRole('button', { name: 'Confirm remove' }).click();
  await expect(row).toHaveCount(0);
  await doraPage.goto('/sign-in');
  await doraPage.getByLabel('Email').fill(email);
  await doraPage.getByLabel('Password').fill('dora-new-password-456');
  await doraPage.getByRole('button', { name: 'Sign in' }).click();
  await expect(doraPage.getByRole('alert').filter({ hasText: /\S/ })).toHaveText(
    'Wrong email or password.',
  );
  await dora.close();
});
