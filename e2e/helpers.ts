import { expect, type Page } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';

export async function signIn(page: Page, email: string, password: string) {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/console/);
}

export interface RecentGeneration {
  id: string;
  featureId: string;
  tier: string;
  output: string;
  error: string | null;
  events: { type: string; payload: Record<string, unknown> }[];
}

/** The console's view of the latest suggestions (needs a signed-in viewer on `page`). */
export async function recentGenerations(page: Page): Promise<RecentGeneration[]> {
  const input = encodeURIComponent(JSON.stringify({ json: { limit: 100 } }));
  const response = await page.request.get(`/api/trpc/dashboards.recentGenerations?input=${input}`);
  expect(response.status()).toBe(200);
  const body = (await response.json()) as { result: { data: { json: RecentGeneration[] } } };
  return body.result.data.json;
}

/** Kills the inference worker that `npm start` launched for the test server (found by its port). */
export function killWorker(port: number): number {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (cmdline.includes('inference/src/index.ts') && environ.includes(`WORKER_PORT=${port}`)) {
        process.kill(Number(pid), 'SIGKILL');
        return Number(pid);
      }
    } catch {
      // The process ended or is not ours to read.
    }
  }
  throw new Error(`no worker process on port ${port}`);
}
