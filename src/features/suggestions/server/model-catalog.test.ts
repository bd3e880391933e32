// A version loaded into the worker at run time (its repository API) becomes a ModelVersion within
// seconds, and the watch writes to the database only when what the backends serve changed.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnEachDatabase } from '~/test/databases';
import { startWorker, type WorkerProcess } from '~/test/worker-process';
import { BackendPool } from './backend-pool';
import { watchServedModels } from './model-catalog';
import { createSuggestionRuntime } from './suggestions-runtime';

const TINY = path.resolve(
  import.meta.dirname,
  '../../../../inference/testdata/models/tiny-random/1',
);

let repository: string;
let worker: WorkerProcess;
beforeAll(async () => {
  repository = mkdtempSync(path.join(tmpdir(), 'fw-watch-'));
  worker = await startWorker({ MODEL_REPOSITORY: repository });
});
afterAll(async () => {
  await worker?.stop();
  rmSync(repository, { recursive: true, force: true });
});

async function loadVersion(name: string, version: number): Promise<void> {
  cpSync(TINY, path.join(repository, name, String(version)), { recursive: true });
  const res = await fetch(`${worker.baseUrl}/v2/repository/models/${name}/load`, {
    method: 'POST',
  });
  expect(res.status).toBe(200);
}

describeOnEachDatabase('served-model watch', ({ db }) => {
  it('registers a version loaded at run time within seconds, writing only on change', async () => {
    const name = `watched-${Math.random().toString(36).slice(2, 8)}`;
    const pool = new BackendPool([worker.baseUrl], { failureThreshold: 5, cooldownMs: 5000 });
    const runtime = createSuggestionRuntime(db(), pool);
    let writes = 0;
    const watch = watchServedModels(
      () => pool.listModels(),
      async () => {
        writes++;
        await runtime.refreshModels();
      },
      500,
    );
    const registered = (version: string) =>
      db().modelVersion.findUnique({ where: { name_version: { name, version } } });
    const within = async (version: string, ms: number) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (await registered(version)) return Date.now();
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${name}/${version} was not registered within ${ms} ms`);
    };
    try {
      await loadVersion(name, 1);
      await within('1', 5000);
      const loadedAt = Date.now();
      await loadVersion(name, 2);
      const seenAt = await within('2', 5000);
      expect(seenAt - loadedAt).toBeLessThan(5000);
      expect((await registered('2'))?.backendModel).toBe(`${name}/2`);

      // Nothing changes: ticks read the lists but do not write.
      const before = writes;
      await new Promise((r) => setTimeout(r, 1600));
      expect(await watch.tick()).toBe(false);
      expect(writes).toBe(before);
    } finally {
      watch.stop();
    }
  });
});
