// `npm run eval` as a user runs it (a child process), against the test databases and the real
// worker: it prints the metrics and exits 0; with the backend down it exits 1 with the reason.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registerServedModels } from '~/features/models/server/model-registry-service';
import { BackendPool } from '~/features/suggestions/server/backend-pool';
import { seedEvalTraffic, type SeededTraffic } from '~/features/evals/server/testing/eval-fixtures';
import { describeOnEachDatabase } from '~/test/databases';
import { startWorker, type WorkerProcess } from '~/test/worker-process';

const root = path.resolve(import.meta.dirname, '..');
let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorker();
});
afterAll(async () => {
  await worker?.stop();
});

function evalCli(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/eval.ts', ...args],
      { cwd: root, env: { ...process.env, ...env }, timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error.code as number | undefined) ?? 1) : 0, stdout, stderr }),
    );
  });
}

describeOnEachDatabase('npm run eval', ({ db, url }) => {
  let traffic: SeededTraffic;
  beforeAll(async () => {
    const pool = new BackendPool([worker.baseUrl], { failureThreshold: 1000, cooldownMs: 1000 });
    await registerServedModels(
      db(),
      (await pool.listModels()).flatMap((l) => l.ids),
    );
    traffic = await seedEvalTraffic(db(), new Map());
  });

  it('runs one eval in process with a progress bar and prints its metrics', async () => {
    const args = ['--model', 'flywheel-teacher/1', '--sample', '3', '--seed', 'cli'];
    const window = ['--from', traffic.from, '--to', traffic.to];
    const ok = await evalCli([...args, ...window], {
      DATABASE_URL: url(),
      INFERENCE_BACKENDS: worker.baseUrl,
    });
    expect(ok.stderr).toContain('scoring [');
    expect(ok.stdout).toMatch(/examples\s+3\n/);
    expect(ok.stdout).toMatch(/chrF\s+\d+\.\d\d \[/);
    expect(ok.stdout).toMatch(/log-lik \/ token\s+-\d+\.\d{3} \[/);
    expect(ok.code).toBe(0);
    const id = /Eval run ([0-9a-f-]{36})/.exec(ok.stdout)?.[1];
    const run = await db().evalRun.findUniqueOrThrow({ where: { id } });
    expect(run).toMatchObject({ status: 'succeeded', done: 3, total: 3 });

    const down = await evalCli([...args, ...window], {
      DATABASE_URL: url(),
      INFERENCE_BACKENDS: 'http://127.0.0.1:9',
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(
      "The candidate's backend is down: http://127.0.0.1:9 did not answer GET /v1/models",
    );

    const bad = await evalCli(['--model', 'nope/1', '--sample', '0'], { DATABASE_URL: url() });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('sample must be at least 1');
  });
});
