import { expect, test, type Page } from '@playwright/test';
import { e2eAdmin, e2eFaultProxyPort, e2eWorkerPort } from '../playwright.config';
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

  /** The proposal as the diff shows it: unchanged and added words, without the struck ones. */
  const proposalText = () =>
    page.getByTestId('rewrite-diff').evaluate((el) =>
      Array.from(el.childNodes)
        .filter((n) => n.nodeName !== 'DEL')
        .map((n) => n.textContent)
        .join(''),
    );
  /** Kinds of the diff's parts in order: s(ame), d(eleted), i(nserted). */
  const diffShape = () =>
    page.getByTestId('rewrite-diff').evaluate((el) =>
      Array.from(el.childNodes)
        .map((n) => (n.nodeName === 'DEL' ? 'd' : n.nodeName === 'INS' ? 'i' : 's'))
        .join(''),
    );

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
    // Grouped like an editor's diff: each changed stretch is struck words then new words, never
    // alternating word by word ("ThanksI foram…"), so no insertion is followed by a deletion.
    expect(await diffShape()).not.toMatch(/id|dd|ii/);
    const proposal = await proposalText();
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

  test('when the primary fails mid-stream, the page shows only the next tier’s text', async () => {
    const proxy = `http://127.0.0.1:${e2eFaultProxyPort}/__faults`;
    type Rule = { model: string; state: string; sent: string };
    const rules = async () => (await (await page.request.get(proxy)).json()) as Rule[];
    const holding = async (model: string) => {
      await expect
        .poll(async () => (await rules()).find((r) => r.model === model)?.state, {
          timeout: 8_000,
        })
        .toBe('holding');
      return (await rules()).find((r) => r.model === model)!.sent;
    };
    // The teacher's next rewrite stops after 3 chunks; the student's after 2 (then both wait).
    const rewriteOnly = 'Make it friendlier'; // (inline completions stream from the teacher too)
    await page.request.post(proxy, {
      data: [
        { model: 'flywheel-teacher', afterChunks: 3, promptIncludes: rewriteOnly },
        { model: 'flywheel-student', afterChunks: 2, promptIncludes: rewriteOnly },
      ],
    });
    await page.keyboard.type('Please send me the report by Friday.');
    await page.keyboard.press('Escape');
    await page.keyboard.press('ControlOrMeta+a');
    await page.getByRole('button', { name: 'Friendlier' }).click();
    // The teacher's first words are on the page as they stream …
    const teacherText = await holding('flywheel-teacher');
    await expect.poll(proposalText).toBe(teacherText);
    // … then its connection drops mid-answer (as when a worker dies) and the student answers:
    // the page drops the teacher's words instead of appending the student's to them.
    await page.request.post(`${proxy}/release`, { data: { action: 'drop' } });
    const studentText = await holding('flywheel-student');
    await expect.poll(proposalText).toBe(studentText);
    await page.request.post(`${proxy}/release`, { data: { action: 'continue' } });
    await expect(page.getByRole('button', { name: 'Accept' })).toBeEnabled({ timeout: 30_000 });
    const rewrite = (await recentGenerations(page)).find((g) => g.featureId === 'rewrite');
    expect(rewrite?.tier).toBe('fallback_model');
    expect(await proposalText()).toBe(rewrite?.output);
    await page.getByRole('button', { name: 'Reject' }).click();
  });

  test('leaving the page mid-rewrite aborts the rewrite down to the backend', async () => {
    const proxy = `http://127.0.0.1:${e2eFaultProxyPort}/__faults`;
    const teacherRule = async () =>
      ((await (await page.request.get(proxy)).json()) as { model: string; state: string }[])
        .filter((r) => r.model === 'flywheel-teacher')
        .at(-1)?.state;
    // The teacher's rewrite sends two chunks, then holds the rest: the rewrite is in flight.
    await page.request.post(proxy, {
      data: [{ model: 'flywheel-teacher', afterChunks: 2, promptIncludes: 'Make it friendlier' }],
    });
    await page.keyboard.type('Send me the numbers today.');
    await page.keyboard.press('Escape');
    await page.keyboard.press('ControlOrMeta+a');
    await page.getByRole('button', { name: 'Friendlier' }).click();
    await expect.poll(teacherRule, { timeout: 8_000 }).toBe('holding');
    await expect(page.getByTestId('rewrite-diff')).toBeVisible();
    // Away within the app (a client-side navigation: the document stays, only the page's
    // components unmount, so nothing but the page's own cleanup can end the request).
    await page.evaluate(() =>
      (
        window as unknown as { next: { router: { push: (href: string) => void } } }
      ).next.router.push('/console'),
    );
    await expect(page).toHaveURL(/\/console/);
    // The browser's request ends, so the app's stream, so its call to the backend …
    await expect.poll(teacherRule, { timeout: 8_000 }).toBe('abandoned');
    // … and the rewrite is recorded as abandoned by its caller, with nothing shown.
    await expect
      .poll(async () => (await recentGenerations(page)).find((g) => g.featureId === 'rewrite'), {
        timeout: 15_000,
      })
      .toMatchObject({ tier: 'none', output: '', error: 'aborted by the caller' });
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
