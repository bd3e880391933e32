/** Where the worker's single-stream time goes: engine in this thread vs the worker over HTTP. */
import { Engine } from '../inference/src/engine/engine-loop';
import { ModelRunner } from '../inference/src/engine/model-runner';
import { scanRepository } from '../inference/src/models/repository';
import { ModelTokenizer } from '../inference/src/models/tokenizer';
import { DEMO_MODELS, startWorker } from '../inference/src/testing/worker-process';
import { plainCompletion } from './lib/http-client';
import { loadRaw, rawGenerate } from './lib/raw-floor';

const version = scanRepository(DEMO_MODELS).find((v) => v.name === 'flywheel-teacher')!;
const tok = ModelTokenizer.load(version);
const prompt = tok.encode(
  'Emma Woodhouse, handsome, clever, and rich, with a comfortable home and happy disposition,',
);
const N = 48;
const { runner } = await ModelRunner.load(version.modelPath, ['cpu'], 1);
const raw = await loadRaw(version.modelPath, 1);
const worker = await startWorker({ MODEL_REPOSITORY: DEMO_MODELS, WORKER_INTRA_OP_THREADS: '1' });
const best: Record<string, number> = {};
const note = (k: string, ms: number) => (best[k] = Math.min(best[k] ?? Infinity, ms / N));
for (let r = 0; r < 6; r++) {
  let t = performance.now();
  await rawGenerate(raw, [prompt], N);
  note('raw loop', performance.now() - t);
  let done = false;
  const engine = new Engine(
    runner,
    {
      contextLength: 256,
      eos: [],
      maxBatch: 16,
      maxQueue: 8,
      kvCacheBytes: 1 << 26,
      maxDraft: 6,
      prefillChunk: 512,
    },
    (m) => {
      if (m.type === 'done') done = true;
    },
  );
  engine.submit({
    id: `e${r}`,
    prompt,
    maxTokens: N,
    sampling: { temperature: 0, topP: 1, topK: 0 },
    seed: 1,
    stream: 0,
    logprobs: null,
    prediction: null,
    speculate: false,
    ignoreEos: true,
  });
  t = performance.now();
  while (!done) await engine.step();
  note('engine, same thread', performance.now() - t);
  t = performance.now();
  await plainCompletion(worker.baseUrl, {
    model: 'flywheel-teacher',
    prompt,
    max_tokens: N,
    temperature: 0,
    ignore_eos: true,
    speculative: false,
  });
  note('worker over HTTP', performance.now() - t);
}
await worker.stop();
for (const [k, v] of Object.entries(best))
  console.log(`${k.padEnd(22)} ${v.toFixed(2)} ms/token (best of 6)`);
