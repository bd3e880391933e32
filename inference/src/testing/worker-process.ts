/** Test and benchmark helper: runs the real worker (`tsx inference/src/index.ts`) as a process. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const TESTDATA_MODELS = path.join(REPO_ROOT, 'inference/testdata/models');
export const DEMO_MODELS = path.join(REPO_ROOT, 'inference/models');

export interface WorkerProcess {
  baseUrl: string;
  child: ChildProcess;
  logs: () => string;
  /** SIGTERM, then the exit code. */
  stop: () => Promise<number | null>;
}

export async function startWorker(
  env: Record<string, string>,
  readyTimeoutMs = 120_000,
): Promise<WorkerProcess> {
  // `node --import tsx` rather than the tsx launcher: the child is then the serving process
  // itself, so killing it (tests do) leaves no orphan behind.
  const child = spawn(process.execPath, ['--import', 'tsx', 'inference/src/index.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, WORKER_PORT: '0', WORKER_EXECUTION_PROVIDERS: 'cpu', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + readyTimeoutMs;
  let baseUrl = '';
  while (Date.now() < deadline) {
    const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
    if (m?.[1]) {
      baseUrl = m[1];
      const ready = await fetch(`${baseUrl}/v2/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
    }
    if (child.exitCode !== null) throw new Error(`worker exited early:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!baseUrl || Date.now() >= deadline) {
    child.kill('SIGKILL');
    throw new Error(`worker did not become ready:\n${out}`);
  }
  return {
    baseUrl,
    child,
    logs: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The response shapes tests read (only the fields they use). */
export interface CompletionJson {
  choices: {
    index: number;
    text: string;
    finish_reason: string;
    logprobs: { tokens: string[]; token_logprobs: number[] } | null;
  }[];
  usage: {
    prompt_tokens: number;
    completion_tokens: number;
    prompt_tokens_details: { cached_tokens: number };
  };
}
export interface ErrorJson {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export async function postJson<T = CompletionJson & ErrorJson>(
  baseUrl: string,
  route: string,
  body: unknown,
): Promise<{ status: number; json: T; headers: Headers }> {
  const res = await fetch(`${baseUrl}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json: json as T, headers: res.headers };
}
