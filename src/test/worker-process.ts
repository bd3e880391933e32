// Starts the real inference worker as a process for the app's tests. The worker shares no code
// with src/: this helper only knows its command line, its environment and its HTTP API.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
export const DEMO_MODELS = path.join(root, 'inference/models');

export interface WorkerProcess {
  baseUrl: string;
  /** The node process that serves (killing it is killing the worker). */
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startWorker(
  env: Record<string, string> = {},
  readyTimeoutMs = 120_000,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'inference/src/index.ts'], {
    cwd: root,
    env: {
      ...process.env,
      WORKER_PORT: '0',
      WORKER_EXECUTION_PROVIDERS: 'cpu',
      MODEL_REPOSITORY: DEMO_MODELS,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (d: Buffer) => (out += d.toString());
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`worker exited early:\n${out}`);
    const baseUrl = /listening on (http:\/\/[\d.]+:\d+)/.exec(out)?.[1];
    if (
      baseUrl &&
      (await fetch(`${baseUrl}/v2/health/ready`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      return {
        baseUrl,
        child,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(timer);
        },
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`worker did not become ready:\n${out}`);
}
