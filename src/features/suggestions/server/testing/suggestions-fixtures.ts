// The suggestion runtime of a test suite: on the suite's database, against the real worker, with
// the models mirrored and warmed as at server start.
import { beforeAll, expect } from 'vitest';
import type { Db } from '~/server/db';
import type { WorkerProcess } from '~/test/worker-process';
import { BackendPool } from '../backend-pool';
import { createSuggestionRuntime, type SuggestionRuntime } from '../suggestions-runtime';

export function suggestionRuntimeFor(
  db: () => Db,
  worker: () => WorkerProcess,
): () => SuggestionRuntime {
  let rt: SuggestionRuntime | undefined;
  beforeAll(async () => {
    rt = createSuggestionRuntime(
      db(),
      new BackendPool([worker().baseUrl], { failureThreshold: 5, cooldownMs: 5000 }),
      { writer: { sinks: () => ['posthog', 'otel'] } },
    );
    // As at server start: the worker's models become ModelVersion rows, features are mirrored.
    expect(await rt.refreshModels()).toEqual(['flywheel-student/1', 'flywheel-teacher/1']);
    // A first request to a freshly started model can outlast the feature's latency budget on a
    // busy machine; the tests are about the path, so warm both models first.
    for (const model of ['flywheel-teacher/1', 'flywheel-student/1'])
      await fetch(`${worker().baseUrl}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, prompt: 'Thank you for', max_tokens: 4 }),
      });
  });
  return () => {
    if (!rt) throw new Error('the suggestion runtime has not started');
    return rt;
  };
}
