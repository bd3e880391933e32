/** Entry of a model's worker thread: loads the model, then runs its engine loop. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ExecutionProviderName } from '../env';
import { Engine, type EngineOptions } from './engine-loop';
import { emptyKv } from './kv-tensors';
import { ModelRunner } from './model-runner';
import type { FromEngine, ToEngine } from './protocol';

export interface EngineWorkerData {
  modelPath: string;
  providers: ExecutionProviderName[];
  intraOpThreads: number;
  options: EngineOptions;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('engine-worker must run in a worker thread');
  const data = workerData as EngineWorkerData;
  // One postMessage per engine step rather than one per sequence and event.
  let outbox: FromEngine[] = [];
  const flush = (): void => {
    const events = outbox;
    outbox = [];
    port.postMessage(events.length === 1 ? events[0] : { type: 'events', events });
  };
  const post = (msg: FromEngine): void => {
    if (outbox.length === 0) queueMicrotask(flush);
    outbox.push(msg);
  };
  let loaded;
  try {
    loaded = await ModelRunner.load(data.modelPath, data.providers, data.intraOpThreads);
  } catch (err) {
    post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  try {
    // Warm-up: the first run pays one-off allocation costs; report ready only after it.
    await loaded.runner.forward({
      batch: 1,
      seqLen: 1,
      inputIds: BigInt64Array.of(0n),
      attentionMask: BigInt64Array.of(1n),
      positionIds: BigInt64Array.of(0n),
      past: emptyKv(loaded.runner.shape, 1),
      logitsToKeep: 1,
    });
  } catch (err) {
    post({
      type: 'fatal',
      message: `warm-up run failed: ${err instanceof Error ? err.message : String(err)}`,
    });
    return;
  }
  const engine = new Engine(loaded.runner, data.options, post);
  port.on('message', (msg: ToEngine) => {
    if (msg.type === 'submit') engine.submit(msg.request);
    else if (msg.type === 'cancel') engine.cancel(msg.id);
    else engine.stop();
  });
  post({
    type: 'ready',
    provider: loaded.provider,
    failures: loaded.failures,
    layout: engine.layout,
  });
  try {
    await engine.run();
  } catch (err) {
    post({
      type: 'fatal',
      message: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    return;
  }
  await loaded.runner.release();
  post({ type: 'closed' });
  port.close();
}

void main();
