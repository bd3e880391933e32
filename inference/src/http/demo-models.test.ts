/** The demo models (when built): served side by side, greedy output identical to transformers.js. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadTransformersModel,
  transformersGreedy,
  type TransformersModel,
} from '../../../bench/lib/transformers-model';
import { DEMO_MODELS, postJson, startWorker, type WorkerProcess } from '../testing/worker-process';

const NAMES = ['flywheel-teacher', 'flywheel-student'];
const present = NAMES.every((n) => existsSync(path.join(DEMO_MODELS, n, '1', 'model.onnx')));
const PROMPT = 'It is a truth universally acknowledged, that a single man in possession';

describe.skipIf(!present)('demo models', () => {
  let worker: WorkerProcess;
  const refs: Record<string, TransformersModel> = {};

  beforeAll(async () => {
    worker = await startWorker({ MODEL_REPOSITORY: DEMO_MODELS });
    for (const n of NAMES) refs[n] = await loadTransformersModel(path.join(DEMO_MODELS, n, '1'));
  });
  afterAll(async () => {
    for (const r of Object.values(refs)) r.cleanup();
    if (worker) expect(await worker.stop()).toBe(0);
  });

  it.each(NAMES)(
    '%s: greedy text equals transformers.js, plain, speculative and cached',
    async (name) => {
      const ref = refs[name]!;
      const ids = ref.tokenizer.encode(PROMPT);
      const expected = ref.tokenizer.decode(await transformersGreedy(ref, ids, 32));
      for (const speculative of [false, true, true]) {
        const res = await postJson(worker.baseUrl, '/v1/completions', {
          model: name,
          prompt: ids,
          max_tokens: 32,
          temperature: 0,
          speculative,
        });
        expect(res.status).toBe(200);
        expect(res.json.choices[0]!.text).toBe(expected.slice(0, res.json.choices[0]!.text.length));
        if (res.json.choices[0]!.finish_reason === 'length')
          expect(res.json.choices[0]!.text).toBe(expected);
      }
    },
  );
});
