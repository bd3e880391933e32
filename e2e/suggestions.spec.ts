import { expect, test, type Page } from '@playwright/test';
import { e2eAdmin, e2eWorkerPort } from '../playwright.config';
import { killWorker, recentGenerations, signIn } from './helpers';

// One writer's session, in order (the last test kills the worker). The writer is also signed in
// to the console, whose API the tests read the recorded suggestions from.
test.describe.serial('inline suggestions and rewrite', () => {
  let page: Page;
  const pageErrors: string[] = [];
  test.beforeAll(async ({ browser }) => {
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await signIn(page, e2eAdmin.email, e2eAdmin.password);
  });
  test.afterAll(async () => {
    await page.close();
  });
  test.beforeEach(async () => {
    await page.goto('/write');
    await page.getByTestId('editor').click();
  });
  test.afterEach(() => {
    expect(pageErrors).toEqual([]);
  });

  const eventsOf = async (id: string) =>
    (await recentGenerations(page)).find((g) => g.id === id)?.events.map((e) => e.type) ?? [];

  test('ghost text appears, Tab accepts it, and the accept is recorded', async () => {
    await page.keyboard.type('The old man walked to the', { delay: 20 });
    const ghost = page.getByTestId('ghost-text');
    await expect(ghost).toBeVisible();
    const id = await ghost.getAttribute('data-generation-id');
    const suggested = (await ghost.textContent()) ?? '';
    expect(id).toBeTruthy();
    await expect(page.getByTestId('suggestion-announcer')).toContainText('Press Tab to accept');
    await page.waitForTimeout(900); // past the 750 ms visibility gate
    await page.keyboard.press('Tab');
    await expect(ghost).toHaveCount(0);
    await expect(page.getByTestId('editor')).toHaveText(`The old man walked to the${suggested}`);
    await expect.poll(() => eventsOf(id!), { timeout: 15_000 }).toEqual(['shown', 'accepted']);
  });

  test('Esc dismisses the suggestion and the dismissal is recorded', async () => {
    await page.keyboard.type('She opened the door and', { delay: 20 });
    const ghost = page.getByTestId('ghost-text');
    await expect(ghost).toBeVisible();
    const id = await ghost.getAttribute('data-generation-id');
    await page.waitForTimeout(900);
    await page.keyboard.press('Escape');
    await expect(ghost).toHaveCount(0);
    await expect(page.getByTestId('editor')).toHaveText('She opened the door and');
    await expect.poll(() => eventsOf(id!), { timeout: 15_000 }).toEqual(['shown', 'dismissed']);
  });

  test('a rewrite of the selection streams, shows a diff and is accepted', async () => {
    const text = 'I think that maybe we could possibly meet on Monday if that works for you.';
    await page.keyboard.type(text);
    await page.keyboard.press('Escape');
    await page.keyboard.press('ControlOrMeta+a');
    await page.getByRole('button', { name: 'Shorter' }).click();
    const accept = page.getByRole('button', { name: 'Accept' });
    await expect(accept).toBeEnabled({ timeout: 30_000 });
    await expect(page.getByTestId('rewrite-diff')).toBeVisible();
    const proposal = await page.getByTestId('rewrite-diff').evaluate((el) =>
      Array.from(el.childNodes)
        .filter((n) => n.nodeName !== 'DEL')
        .map((n) => n.textContent)
        .join(''),
    );
    await accept.click();
    await expect(page.getByTestId('editor')).toHaveText(proposal);
    await expect
      .poll(
        async () =>
          (await recentGenerations(page))
            .find((g) => g.featureId === 'rewrite')
            ?.events.map((e) => e.type),
        {
          timeout: 15_000,
        },
      )
      .toEqual(['shown', 'accepted']);
  });

  test('after a rejected rewrite the caret is back in the editor, after the text', async () => {
    const text = 'Please send me the report by Friday.';
    await page.keyboard.type(text);
    await page.keyboard.press('Escape');
    await page.keyboard.press('ControlOrMeta+a');
    await page.getByRole('button', { name: 'Friendlier' }).click();
    const reject = page.getByRole('button', { name: 'Reject' });
    await expect(reject).toBeEnabled({ timeout: 30_000 });
    await reject.click();
    await expect(page.getByTestId('editor')).toBeFocused();
    // The next keystrokes land in the editor, after the text, and replace nothing.
    await page.keyboard.type(' Thanks');
    // (A ghost suggestion may follow the caret, so only the start is checked.)
    await expect(page.getByTestId('editor')).toHaveText(
      /^Please send me the report by Friday\. Thanks/,
    );
  });

  test('a selection over the limit says so, with the limit, before anything is sent', async () => {
    const editor = page.getByTestId('editor');
    // Typing 4,000+ characters key by key is slow; insert them as one paste-like input.
    await page.keyboard.insertText('word '.repeat(820));
    await page.keyboard.press('ControlOrMeta+a');
    await expect(page.getByTestId('selection-too-long')).toContainText('4,100 characters');
    await expect(page.getByTestId('selection-too-long')).toContainText('at most 4,000');
    await expect(page.getByRole('button', { name: 'Shorter' })).toBeDisabled();
    // Under the limit, the buttons come back.
    await page.keyboard.press('End');
    await page.keyboard.press('Shift+Home');
    await expect(page.getByTestId('selection-too-long')).toHaveCount(0);
    await expect(editor).toBeFocused();
  });

  test('with the worker killed a suggestion still appears from a fallback tier, without an error', async () => {
    killWorker(e2eWorkerPort);
    await page.keyboard.type('the cat sat on the mat. the cat sat on the', { delay: 20 });
    const ghost = page.getByTestId('ghost-text');
    await expect(ghost).toBeVisible();
    const id = await ghost.getAttribute('data-generation-id');
    const generation = (await recentGenerations(page)).find((g) => g.id === id);
    expect(generation?.tier).toBe('ngram');
    await expect(page.getByRole('alert').filter({ hasText: /\S/ })).toHaveCount(0);
  });
});
