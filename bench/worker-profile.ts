/** Profiles the engine alone (no HTTP) on the rewrite scenario: steps, widths, forward time. */
import { Engine } from '../inference/src/engine/engine-loop';
import { ModelRunner } from '../inference/src/engine/model-runner';
import { scanRepository } from '../inference/src/models/repository';
import { ModelTokenizer } from '../inference/src/models/tokenizer';
import { REWRITE_SELECTION } from './lib/prompts';

const version = scanRepository('inference/models').find((v) => v.name === 'flywheel-teacher')!;
const tok = ModelTokenizer.load(version);
const { runner } = await ModelRunner.load(version.modelPath, ['cpu'], 1);
const stats = { fwd: 0, calls: 0, width: 0, past: 0 };
const timed = {
  shape: runner.shape,
  forward: async (i: Parameters<typeof runner.forward>[0]) => {
    const t = performance.now();
    const r = await runner.forward(i);
    stats.fwd += performance.now() - t;
    stats.calls++;
    stats.width += i.seqLen * i.batch;
    stats.past += i.past.length;
    return r;
  },
};
const sel = tok.encode(REWRITE_SELECTION, false).slice(0, 116);
const prompt = tok.encode(
  `Rewrite the passage in plain words.\nPassage: ${tok.decode(sel)}\nRewritten:`,
);
for (const usePred of [false, true, false, true]) {
  Object.assign(stats, { fwd: 0, calls: 0, width: 0, past: 0 });
  let done = false;
  let n = 0;
  const engine = new Engine(
    timed,
    {
      contextLength: version.config.contextLength,
      eos: [],
      maxBatch: 16,
      maxQueue: 10,
      kvCacheBytes: 1 << 28,
      maxDraft: 6,
      prefillChunk: 512,
    },
    (m) => {
      if (m.type === 'done') done = true;
      if (m.type === 'tokens') n += m.tokens.length;
    },
  );
  engine.submit({
    id: 'x',
    prompt,
    maxTokens: sel.length,
    sampling: { temperature: 0, topP: 1, topK: 0 },
    seed: 1,
    stream: 0,
    logprobs: null,
    prediction: usePred ? sel : null,
    speculate: usePred,
    ignoreEos: true,
  });
  const t = performance.now();
  while (!done) await engine.step();
  const ms = performance.now() - t;
  console.log(
    `prediction=${usePred}: ${n} tok, ${(ms / n).toFixed(2)} ms/tok; forward ${stats.fwd.toFixed(0)} of ${ms.toFixed(0)} ms in ${stats.calls} calls (${(stats.fwd / stats.calls).toFixed(2)} ms/call), avg fed ${(stats.width / stats.calls).toFixed(1)}, avg past ${(stats.past / stats.calls).toFixed(0)}`,
  );
}
