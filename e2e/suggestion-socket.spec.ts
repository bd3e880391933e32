import { expect, test, type Page } from '@playwright/test';
import { e2eAdmin } from '../playwright.config';
import { recentGenerations, signIn } from './helpers';

// How the editor asks for inline suggestions: over its suggestion socket when the server offers
// one (`npm start`), by fetch when the socket is refused (`next dev`, plain `next start`).
const SOCKET = '**/api/v1/suggestions/socket';
const COMPLETE = '/api/v1/suggestions/complete';

async function typeUntilGhost(page: Page) {
  await page.goto('/write');
  await page.getByTestId('editor').click();
  await page.keyboard.type('The old man walked to the', { delay: 20 });
  const ghost = page.getByTestId('ghost-text');
  await expect(ghost).toBeVisible();
  const id = await ghost.getAttribute('data-generation-id');
  expect(id).toBeTruthy();
  // The suggestion shown is the one recorded.
  await expect
    .poll(async () => (await recentGenerations(page)).some((g) => g.id === id))
    .toBe(true);
}

test.describe('suggestion transport', () => {
  test('ghost text comes over the socket, with no fetch', async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, e2eAdmin.email, e2eAdmin.password);
    const fetches: string[] = [];
    page.on('request', (r) => void (r.url().endsWith(COMPLETE) && fetches.push(r.url())));
    const answers: string[] = [];
    page.on('websocket', (ws) => {
      if (ws.url().endsWith('/api/v1/suggestions/socket'))
        ws.on('framereceived', (f) => answers.push(String(f.payload)));
    });
    await typeUntilGhost(page);
    expect(answers.some((a) => a.includes('"result"'))).toBe(true);
    expect(fetches).toEqual([]);
    expect(errors).toEqual([]);
  });

  test('with the socket refused the page still gets suggestions by fetch', async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, e2eAdmin.email, e2eAdmin.password);
    // The server refuses the socket: it closes as soon as it opens.
    let attempts = 0;
    await page.routeWebSocket(SOCKET, (ws) => {
      attempts++;
      void ws.close({ code: 1011, reason: 'refused' });
    });
    const fetches: string[] = [];
    page.on('request', (r) => void (r.url().endsWith(COMPLETE) && fetches.push(r.url())));
    await typeUntilGhost(page);
    expect(attempts).toBeGreaterThan(0);
    expect(fetches.length).toBeGreaterThan(0);
    // Not retried on every keystroke: one try, then a growing pause.
    expect(attempts).toBeLessThanOrEqual(2);
    expect(errors).toEqual([]);
  });
});
