/**
 * The product as `npm start` runs it, for the closed-loop demo: the embedded database, the
 * migrations, the worker and the Next.js server behind serve-next.mjs, on a fresh embedded
 * database in a folder of its own, with the demo models copied next to it (v2 is written there,
 * never into the checkout).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { applyMigrations } from '../src/server/db/migrations';
import { openDatabase } from '../src/server/db/open-database';
import { freePort } from '../src/server/db/ports';
import { childEnvironment, loadServerEnv } from '../src/server/env';
import { buildIfStale } from './build-if-stale';
import { stopService } from './processes';

const root = path.resolve(import.meta.dirname, '..');

export interface Product {
  appUrl: string;
  workerUrl: string;
  modelRepository: string;
  stop(): Promise<void>;
}

export interface ProductOptions {
  adminEmail: string;
  adminPassword: string;
  /** Use the existing build (a browser test's server has just made it). */
  noBuild: boolean;
  guardrailIntervalMs: number;
  /** The datasets' watermark settle time (DATASET_WATERMARK_SETTLE_MS). */
  datasetSettleMs: number;
}

export async function startProduct(dir: string, o: ProductOptions): Promise<Product> {
  const [port, workerPort] = [await freePort(), await freePort()];
  const modelRepository = path.join(dir, 'models');
  for (const model of ['flywheel-teacher/1', 'flywheel-student/1'])
    await cp(path.join(root, 'inference/models', model), path.join(modelRepository, model), {
      recursive: true,
    });
  if (!o.noBuild) await buildIfStale(childEnvironment({ NODE_ENV: 'production' }));
  const env = loadServerEnv({
    ...process.env,
    DATABASE_URL: '',
    EMBEDDED_DATABASE_DIR: path.join(dir, 'postgres'),
  });
  const database = await openDatabase(env, { log: () => {} });
  await applyMigrations(database.url);
  const out = createWriteStream(path.join(dir, 'product.log'));
  const service = (name: string, command: string[], overrides: Record<string, string>) => {
    const child = spawn(process.execPath, command, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnvironment(overrides),
    });
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    child.once('exit', (code, signal) => out.write(`[${name}] exited (${code ?? signal})\n`));
    return child;
  };
  const workerUrl = `http://127.0.0.1:${workerPort}`;
  const worker = service('worker', ['--import', 'tsx', 'inference/src/index.ts'], {
    WORKER_PORT: String(workerPort),
    MODEL_REPOSITORY: modelRepository,
  });
  const appUrl = `http://127.0.0.1:${port}`;
  const app = service('app', ['scripts/serve-next.mjs', '--port', String(port)], {
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    INFERENCE_BACKENDS: workerUrl,
    APP_URL: appUrl,
    ADMIN_EMAIL: o.adminEmail,
    ADMIN_PASSWORD: o.adminPassword,
    BETTER_AUTH_SECRET: randomBytes(32).toString('base64url'),
    ALLOW_ANONYMOUS_WRITE: '1',
    GUARDRAIL_INTERVAL_MS: String(o.guardrailIntervalMs),
    DATASET_WATERMARK_SETTLE_MS: String(o.datasetSettleMs),
    // Simulated writers type hours of text in minutes, all from this machine's address.
    RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
    RATE_LIMIT_PER_UNIT_PER_MINUTE: '100000',
    GENERATIONS_PER_UNIT_PER_MINUTE: '100000',
  });
  const stop = async () => {
    await Promise.all([stopService(app, 15_000), stopService(worker, 15_000)]);
    await database.stop();
  };
  for (let i = 0; ; i++) {
    const up = await fetch(`${appUrl}/sign-in`).then(
      (r) => r.ok,
      () => false,
    );
    const ready =
      up &&
      (await fetch(`${workerUrl}/v2/health/ready`).then(
        (r) => r.ok,
        () => false,
      ));
    if (ready) break;
    if (app.exitCode !== null || worker.exitCode !== null || i > 4 * 60 * 5) {
      await stop();
      throw new Error(`the product did not start; see ${path.join(dir, 'product.log')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { appUrl, workerUrl, modelRepository, stop };
}
