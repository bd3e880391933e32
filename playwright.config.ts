import { defineConfig } from '@playwright/test';
import os from 'node:os';
import path from 'node:path';

// Browser tests drive Debian's Chromium (never a downloaded one) against the real app started
// the way `npm start` starts it: the embedded PostgreSQL in a fresh folder, the worker, the built app.
const port = Number(process.env.E2E_PORT ?? 3210);
export const e2eAdmin = { email: 'admin@e2e.local', password: 'e2e-admin-password' };
export const e2eWorkerPort = port + 1;
// The app's only backend: a transparent proxy to the worker that a spec can make fail mid-stream.
export const e2eFaultProxyPort = port + 2;
// Dataset versions and evals read rows at least this old (DATASET_WATERMARK_SETTLE_MS); short here
// so the specs that make traffic and then build on it do not wait the production two minutes.
export const e2eSettleMs = 15_000;

export default defineConfig({
  testDir: 'e2e',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: [
    {
      command: 'npx tsx e2e/fault-proxy.ts',
      port: e2eFaultProxyPort,
      reuseExistingServer: false,
      env: {
        FAULT_PROXY_PORT: String(e2eFaultProxyPort),
        FAULT_PROXY_TARGET: `http://127.0.0.1:${e2eWorkerPort}`,
      },
    },
    {
      command: 'npx tsx scripts/start.ts',
      url: `http://127.0.0.1:${port}/sign-in`,
      timeout: 300_000,
      reuseExistingServer: false,
      stdout: 'pipe',
      env: {
        PORT: String(port),
        APP_URL: `http://127.0.0.1:${port}`,
        EMBEDDED_DATABASE_DIR: path.join(os.tmpdir(), `flywheel-e2e-${process.pid}-${Date.now()}`),
        ADMIN_EMAIL: e2eAdmin.email,
        ADMIN_PASSWORD: e2eAdmin.password,
        WORKER_PORT: String(e2eWorkerPort),
        // The writing-page specs type as an anonymous end user.
        ALLOW_ANONYMOUS_WRITE: '1',
        INFERENCE_BACKENDS: `http://127.0.0.1:${e2eFaultProxyPort}`,
        // Every spec signs in from 127.0.0.1; Better Auth counts attempts until a minute passes
        // without one, so a whole run would hit the production limit (10) and answer 429.
        SIGN_IN_ATTEMPTS_PER_MINUTE: '1000',
        DATASET_WATERMARK_SETTLE_MS: String(e2eSettleMs),
      },
    },
  ],
});
