/**
 * Gateway overhead: the time a suggestion spends in our code, excluding the backend.
 * A stub OpenAI-compatible backend (its own thread) answers every completion at once with a
 * short SSE stream. Two runs at the same open-loop rate (default 1,000 requests/s):
 *   (a) baseline: the official `openai` client calls the stub directly (same request, streamed);
 *   (b) gateway: Gateway.suggest() (feature, catalog, routing, breaker, budget signal, trace
 *       context, streaming, sentence cut) + prompt rendering and seed, as the service does.
 * Overhead = (b) − (a) at p50 and p95. The Generation write happens after the answer and is not
 * on the response path, so it is not timed. Usage: npm run bench:gateway
 *   (BENCH_RPS, BENCH_SECONDS, BENCH_ROUNDS). Never a test: nothing here asserts on time.
 */
import { Worker } from 'node:worker_threads';
import OpenAI from 'openai';
import { BackendPool } from '../src/features/suggestions/server/backend-pool';
import { FEATURES, renderPrompt } from '../src/features/suggestions/server/feature-registry';
import { Gateway } from '../src/features/suggestions/server/gateway';
import { seedFor } from '../src/features/suggestions/server/generation-store';
import { StaticModelCatalog } from '../src/features/suggestions/server/model-catalog';

const RPS = Number(process.env.BENCH_RPS ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
// Rounds alternate baseline and gateway; on a shared machine the median over rounds of each
// side's percentile is steadier than one long run (a neighbour's burst hits one round only).
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const log = (msg: string) => console.error(`[bench] ${msg}`);

// The stub: answers /v1/completions with three chunks, a usage chunk and [DONE], no delay.
const STUB = `
const http = require('node:http');
const { parentPort } = require('node:worker_threads');
const chunk = (o) => 'data: ' + JSON.stringify(o) + '\\n\\n';
const base = { id: 'cmpl-1', object: 'text_completion', created: 0, model: 'stub/1' };
const body =
  [' your', ' message', '.'].map((t) => chunk({ ...base, choices: [{ index: 0, text: t, logprobs: null, finish_reason: null }] })).join('') +
  chunk({ ...base, choices: [{ index: 0, text: '', logprobs: null, finish_reason: 'stop' }] }) +
  chunk({ ...base, choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } }) +
  'data: [DONE]\\n\\n';
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** Fires `run` at RPS for SECONDS (open loop, in 10 ms ticks); returns each request's latency. */
async function openLoop(run: () => Promise<unknown>): Promise<{ ms: number[]; cpuMs: number }> {
  const ms: number[] = [];
  const pending: Promise<void>[] = [];
  const perTick = RPS / 100;
  const ticks = SECONDS * 100;
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    for (let i = 0; i < perTick; i++) {
      const t = performance.now();
      pending.push(run().then(() => void ms.push(performance.now() - t)));
    }
    const next = start + (tick + 1) * 10;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await Promise.all(pending);
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}

async function main() {
  const stub = new Worker(STUB, { eval: true });
  const port = await new Promise<number>((r) => stub.once('message', r));
  const url = `http://127.0.0.1:${port}`;
  const feature = { ...FEATURES['inline-completion'], latencyBudgetMs: 5000 };
  const textBefore = 'Hi Anna,\nThank you for';
  const model = {
    id: 'mv-1',
    name: 'flywheel-teacher',
    version: '1',
    backendModel: 'stub/1',
    label: 'stub/1',
  };
  const gateway = new Gateway(
    new BackendPool([url], { failureThreshold: 1000, cooldownMs: 1000 }),
    new StaticModelCatalog([model, { ...model, name: 'flywheel-student' }]),
  );
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });

  const direct = async () => {
    const stream = await client.completions.create(
      {
        model: 'stub/1',
        prompt: textBefore,
        max_tokens: 12,
        stop: ['\n'],
        temperature: 0,
        seed: 1,
        stream: true,
        stream_options: { include_usage: true },
      },
      { timeout: 5000, signal: new AbortController().signal },
    );
    let text = '';
    for await (const c of stream) text += c.choices[0]?.text ?? '';
    return text;
  };
  let n = 0;
  const viaGateway = async () => {
    const id = `00000000-0000-4000-8000-${String(n++).padStart(12, '0')}`;
    const r = await gateway.suggest({
      feature,
      unitId: `unit-${n % 50}`,
      prompt: renderPrompt(feature, { textBefore, textAfter: '' }),
      maxTokens: feature.maxTokens,
      textBefore,
      textAfter: '',
      seed: seedFor(id),
      signal: new AbortController().signal,
    });
    if (r.tier !== 'primary') throw new Error(`unexpected tier ${r.tier}: ${r.error}`);
    return r.text;
  };

  log(`warm-up, then ${ROUNDS} rounds of ${RPS} requests/s for ${SECONDS} s per side`);
  for (let i = 0; i < 500; i++) await Promise.all([direct(), viaGateway()]);
  type Side = { p50: number[]; p95: number[]; p99: number[]; cpu: number[] };
  const sides: Record<'baseline' | 'gateway', Side> = {
    baseline: { p50: [], p95: [], p99: [], cpu: [] },
    gateway: { p50: [], p95: [], p99: [], cpu: [] },
  };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which side goes first, so neither always runs on a warmer machine.
    const order =
      round % 2 ? (['gateway', 'baseline'] as const) : (['baseline', 'gateway'] as const);
    for (const name of order) {
      const r = await openLoop(name === 'baseline' ? direct : viaGateway);
      const side = sides[name];
      side.p50.push(pct(r.ms, 50));
      side.p95.push(pct(r.ms, 95));
      side.p99.push(pct(r.ms, 99));
      side.cpu.push(r.cpuMs / r.ms.length);
      log(
        `${name} round ${round + 1}: p50 ${pct(r.ms, 50).toFixed(2)} ms, p95 ${pct(r.ms, 95).toFixed(2)} ms`,
      );
    }
  }
  const med = (xs: number[]) => pct(xs, 50);
  const row = (label: string, f: (s: Side) => number[], fmt = (x: number) => x.toFixed(2)) => {
    const b = med(f(sides.baseline));
    const g = med(f(sides.gateway));
    console.log(
      `| ${label.padEnd(16)} | ${fmt(b).padStart(8)} | ${fmt(g).padStart(8)} | ${fmt(g - b).padStart(8)} |`,
    );
    return g - b;
  };
  console.log(
    `\nGateway overhead at ${RPS} requests/s, stub backend (median of ${ROUNDS} rounds × ${RPS * SECONDS} requests per side)\n`,
  );
  console.log('| metric           | baseline | gateway  | overhead |');
  console.log('|------------------|----------|----------|----------|');
  row('p50 latency ms', (s) => s.p50);
  const p95 = row('p95 latency ms', (s) => s.p95);
  row('p99 latency ms', (s) => s.p99);
  row(
    'CPU ms/request',
    (s) => s.cpu,
    (x) => x.toFixed(3),
  );
  console.log(
    '\nbaseline = the openai client calling the stub directly; gateway = Gateway.suggest',
  );
  console.log(`Target: p95 overhead < 5 ms → ${p95 < 5 ? 'met' : 'NOT met'}`);
  await stub.terminate();
}

await main();
