// Shared set-up of the gateway's tests: the catalog, test features and requests, and the real
// inference worker (a process of its own, started once per test file).
import { afterAll, beforeAll } from 'vitest';
import { DEMO_MODELS, startWorker, type WorkerProcess } from '~/test/worker-process';
import { BackendPool } from '../backend-pool';
import { FEATURES, type FeatureDeclaration } from '../feature-registry';
import type { GatewayRequest } from '../gateway';
import { StaticModelCatalog } from '../model-catalog';

export const catalog = new StaticModelCatalog(
  ['flywheel-teacher', 'flywheel-student'].map((name) => ({
    id: null,
    name,
    version: '1',
    backendModel: `${name}/1`,
    label: `${name}/1`,
  })),
);
// Test features: generous budgets (CI machines are shared), long outputs where time matters.
export const feature = (over: Partial<FeatureDeclaration>): FeatureDeclaration => ({
  ...FEATURES['inline-completion'],
  latencyBudgetMs: 10_000,
  ...over,
});
export const corpus = 'Thank you for your message. I will get back to you soon.';
export const request = (
  f: FeatureDeclaration,
  over: Partial<GatewayRequest> = {},
): GatewayRequest => ({
  feature: f,
  unitId: 'unit-1',
  prompt: 'Thank you for',
  maxTokens: f.maxTokens,
  textBefore: 'Thank you for',
  textAfter: '',
  seed: 42,
  ...over,
});
export const pool = (urls: string[]) =>
  new BackendPool(urls, { failureThreshold: 2, cooldownMs: 60_000 });

export async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

/** Starts the real worker before the file's tests and stops it after them. */
export function workerPerFile(): () => WorkerProcess {
  let worker: WorkerProcess | undefined;
  beforeAll(async () => {
    // (The helper reads the "listening on" line, so the worker logs at its default level.)
    worker = await startWorker({ MODEL_REPOSITORY: DEMO_MODELS });
  });
  afterAll(async () => {
    await worker?.stop();
  });
  return () => {
    if (!worker) throw new Error('the worker has not started');
    return worker;
  };
}
