// npm run bench:suggest — suggestion latency as an end user meets it, in Debian's Chromium:
// from the request leaving the page (after the debounce, reported on its own) to the ghost text
// painted, over a paragraph typed word by word, with the demo model on CPU. Baseline, same run:
// the same prompts sent straight to the worker's /v1/completions (no app, no browser).
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';

const port = 3300 + (process.pid % 200);
const workerPort = port + 1;
const root = path.resolve(import.meta.dirname, '..');
const paragraph =
  'The old man walked to the edge of the river and looked at the water for a long time. ' +
  'He remembered the summer when the bridge was built and the children ran along the bank. ' +
  'In the morning the village was quiet and the light came slowly over the hills.';

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const fmt = (xs: number[]) =>
  `p50 ${percentile(xs, 50).toFixed(1)} ms, p95 ${percentile(xs, 95).toFixed(1)} ms (n=${xs.length})`;

async function waitFor(url: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not come up`);
}

const app = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/start.ts')], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    PORT: String(port),
    WORKER_PORT: String(workerPort),
    EMBEDDED_DATABASE_DIR: path.join(os.tmpdir(), `flywheel-bench-${process.pid}`),
    ADMIN_PASSWORD: 'bench-admin-password',
    // The bench types on /write as an anonymous end user.
    ALLOW_ANONYMOUS_WRITE: '1',
  },
});

try {
  await waitFor(`http://127.0.0.1:${port}/sign-in`, 300_000);
  await waitFor(`http://127.0.0.1:${workerPort}/v2/health/ready`, 120_000);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/write`);
  const editor = page.getByTestId('editor');
  await editor.click();
  const prompts: string[] = [];
  let typed = '';
  for (const word of paragraph.split(' ')) {
    await page.keyboard.type(`${word} `, { delay: 15 });
    typed += `${word} `;
    prompts.push(typed);
    await page.waitForTimeout(450); // a pause: debounce, request, paint
    await page.keyboard.press('Escape');
  }
  const inPage = await page.evaluate(() =>
    performance.getEntriesByName('suggest:request-to-paint').map((e) => e.duration),
  );
  await browser.close();

  // Baseline: the worker alone, same prompts, same model, one request at a time.
  const models = (await (await fetch(`http://127.0.0.1:${workerPort}/v1/models`)).json()) as {
    data: { id: string }[];
  };
  const model = models.data.find((m) => m.id.includes('teacher'))?.id ?? models.data[0]!.id;
  const direct: number[] = [];
  for (const prompt of prompts) {
    const started = performance.now();
    await fetch(`http://127.0.0.1:${workerPort}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, prompt, max_tokens: 12, temperature: 0, stop: ['\n'] }),
    }).then((r) => r.json());
    direct.push(performance.now() - started);
  }

  console.log('\nSuggestion latency (Chromium, demo model on CPU)');
  console.log(`  debounce (fixed, before the request): 150 ms`);
  console.log(`  request leaves page → ghost painted:  ${fmt(inPage)}`);
  console.log(`  baseline: worker /v1/completions alone: ${fmt(direct)}`);
  console.log(
    `  ratio page/worker at p50: ${(percentile(inPage, 50) / percentile(direct, 50)).toFixed(2)}×, p95: ${(percentile(inPage, 95) / percentile(direct, 95)).toFixed(2)}×`,
  );
  console.log(`  target p95 < 80 ms: ${percentile(inPage, 95) < 80 ? 'met' : 'not met'}`);
} finally {
  app.kill('SIGTERM');
}
