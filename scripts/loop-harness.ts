// npm run loop:harness -- --model flywheel-student/1=inference/models/flywheel-student/1
//                         --model flywheel-student/2=<folder> [--seed 1] [--half later|first|all]
//                         [--documents N] [--latency-ms 60] [--concurrency 8] [--worker-url URL] [--json FILE]
//                         [--dump-shown FILE]
//   The demo's simulated writers without the product: every held-out document of the chosen half
//   (the demo's own split for the seed; `later` is what the experiment writes) is written against
//   each model's suggestions, straight from a worker, with a fixed latency, and the models are
//   compared with the first one on the same opportunities (acceptance, kept chars/opportunity,
//   paired bootstrap over documents). Minutes instead of a demo run, for choosing a recipe.
//   --dump-shown writes the first model's shown suggestions as unpaired preferences (prompt,
//   completion = what was taken or the suggestion, label) with their document: with --half first,
//   a stand-in for the demo's dataset to train candidates on. --worker-url: a worker that already
//   serves every --model (else one is started on copies of the folders).
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FEATURES, renderPrompt } from '../src/features/suggestions/server/feature-registry';
import { sentenceCut } from '../src/features/suggestions/server/gateway';
import { WRITER_BEHAVIOUR } from '../src/features/simulation/behaviour';
import { loadHeldoutTexts } from '../src/features/simulation/heldout-texts';
import {
  compare,
  simulateDocument,
  type DocumentTally,
} from '../src/features/simulation/offline-harness';
import { documentHalves } from '../src/features/simulation/population';
import { freePort } from '../src/server/db/ports';
import { startService, stopService } from './processes';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', multiple: true, default: [] },
    seed: { type: 'string', default: '1' },
    half: { type: 'string', default: 'later' },
    documents: { type: 'string' },
    'latency-ms': { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '8' },
    'worker-url': { type: 'string' },
    json: { type: 'string' },
    'dump-shown': { type: 'string' },
  },
});
const models = args.model.map((m) => {
  const [label, folder] = m.split('=');
  if (!label || !/^[\w.-]+\/[\w.-]+$/.test(label))
    throw new Error(`--model wants name/version[=folder], not ${m}`);
  return { label, folder };
});
if (models.length === 0) {
  console.error('Give at least one --model name/version[=folder]; the first is the baseline');
  process.exit(2);
}
if (!['later', 'first', 'all'].includes(args.half)) {
  console.error('--half is later (what the experiment writes), first (the dataset) or all');
  process.exit(2);
}
const feature = FEATURES['inline-completion'];
const latencyMs = Number(args['latency-ms']);
const concurrency = Number(args.concurrency);

/** A worker serving the given folders (copied into a repository of their own). */
async function startWorker() {
  const repository = await mkdtemp(path.join(os.tmpdir(), 'flywheel-harness-'));
  for (const m of models)
    await cp(
      path.resolve(m.folder ?? path.join('inference/models', m.label)),
      path.join(repository, m.label),
      {
        recursive: true,
        filter: (src) => !/model_int8\.onnx$|distill-/.test(src),
      },
    );
  const port = await freePort();
  const child = startService(
    'worker',
    process.execPath,
    ['--import', 'tsx', 'inference/src/index.ts'],
    {
      ...process.env,
      WORKER_PORT: String(port),
      MODEL_REPOSITORY: repository,
      WORKER_LOG_LEVEL: 'warn',
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (
      await fetch(`${url}/v2/health/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (child.exitCode !== null || i > 600) throw new Error('the worker did not start');
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    stop: async () => {
      await stopService(child, 10_000);
      await rm(repository, { recursive: true, force: true });
    },
  };
}

/** The gateway's request and post-processing for a primary answer (gateway.ts callModel). */
function suggester(workerUrl: string, model: string) {
  return async (textBefore: string): Promise<string> => {
    const response = await fetch(`${workerUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        prompt: renderPrompt(feature, { textBefore, textAfter: '' }),
        max_tokens: feature.maxTokens,
        stop: [...feature.stop, '. ', '! ', '? '],
        include_stop_str_in_output: true,
        temperature: feature.temperature,
        seed: 0,
      }),
    });
    // A refusal (a prompt over the context) is a failed tier in the gateway: no answer here.
    if (response.status === 400) return '';
    if (!response.ok) throw new Error(`${model}: HTTP ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { choices: { text: string }[] };
    let text = body.choices[0]?.text ?? '';
    const stop = feature.stop.find((s) => text.endsWith(s));
    if (stop) text = text.slice(0, -stop.length);
    text = sentenceCut(text) ?? text;
    return text.trim() ? text : '';
  };
}

async function pool<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>) {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!);
      }
    }),
  );
  return out;
}

const texts = await loadHeldoutTexts(process.env.FLYWHEEL_PYTHON);
const halves = documentHalves(texts.documents, args.seed);
let documents =
  args.half === 'later' ? halves.later : args.half === 'first' ? halves.first : texts.documents;
if (args.documents) documents = documents.slice(0, Number(args.documents));
const worker = args['worker-url']
  ? { url: args['worker-url'].replace(/\/$/, ''), stop: async () => {} }
  : await startWorker();
const t0 = Date.now();
const shown: { prompt: string; completion: string; label: boolean; document: string }[] = [];
const results: { label: string; tallies: DocumentTally[]; seconds: number }[] = [];
try {
  for (const m of models) {
    const started = Date.now();
    const suggest = suggester(worker.url, m.label);
    const tallies = await pool(documents, concurrency, (doc) =>
      simulateDocument({
        seed: args.seed,
        writerId: `harness-${doc.id}`,
        doc,
        params: WRITER_BEHAVIOUR,
        latencyMs,
        suggest,
        onShown: (textBefore, suggestion, kept) =>
          m === models[0] &&
          shown.push({
            prompt: renderPrompt(feature, { textBefore, textAfter: '' }),
            completion: kept ?? suggestion,
            label: kept !== null,
            document: doc.id,
          }),
      }),
    );
    results.push({ label: m.label, tallies, seconds: (Date.now() - started) / 1000 });
  }
} finally {
  await worker.stop();
}
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const sum = (t: DocumentTally[], k: keyof DocumentTally) =>
  t.reduce((n, x) => n + (x[k] as number), 0);
console.log(
  `${documents.length} documents (${args.half} half, seed ${args.seed}), latency ${latencyMs} ms, behaviour v${WRITER_BEHAVIOUR.version}, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
const base = results[0]!;
const report = results.map((r) => {
  const c = compare(base.tallies, r.tallies);
  console.log(
    `  ${r.label.padEnd(24)} ${sum(r.tallies, 'requests')} opportunities, ${sum(r.tallies, 'answered')} answered, ${sum(r.tallies, 'shown')} shown, ` +
      `acceptance ${pct(c.acceptance.b)}, kept chars/opportunity ${c.keptCharsPerOpportunity.b.toFixed(3)} (${r.seconds.toFixed(0)} s)` +
      (r === base
        ? ''
        : `\n      vs ${base.label}: acceptance Δ ${pct(c.acceptance.delta)} [${pct(c.acceptance.ci95[0])}, ${pct(c.acceptance.ci95[1])}], ` +
          `kept chars/opportunity Δ ${c.keptCharsPerOpportunity.delta.toFixed(3)} [${c.keptCharsPerOpportunity.ci95[0].toFixed(3)}, ${c.keptCharsPerOpportunity.ci95[1].toFixed(3)}]`),
  );
  return { label: r.label, comparison: c, seconds: r.seconds };
});
console.log(`  wall ${((Date.now() - t0) / 1000).toFixed(0)} s`);
// The first model's shown suggestions as unpaired preferences (TRL's KTO columns, plus the document).
if (args['dump-shown'])
  await writeFile(args['dump-shown'], shown.map((r) => JSON.stringify(r)).join('\n') + '\n');
if (args.json)
  await writeFile(
    args.json,
    JSON.stringify({ seed: args.seed, half: args.half, latencyMs, report }, null, 2),
  );
process.exit(0);
