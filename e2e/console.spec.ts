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
