/**
 * The HTTP thread's handle on one model's engine thread: starts it, routes submissions and
 * events by request id, counts what is in flight for admission control. Never blocks on
 * onnxruntime (that runs in the worker thread).
 */
import { Worker } from 'node:worker_threads';
import type { ExecutionProviderName } from '../env';
import type { EngineOptions } from './engine-loop';
import type { EngineWorkerData } from './engine-worker';
import type {
  EmittedLogprob,
  FinishReason,
  FromEngine,
  GenerationRequest,
  SequenceStats,
  StepStats,
  ToEngine,
} from './protocol';

export interface GenerationListener {
  onAdmitted?(cachedTokens: number): void;
  onTokens(tokens: number[], logprobs: EmittedLogprob[] | null): void;
  /** Scores of the next prompt tokens (requests with `promptLogprobs`), before any token. */
  onPromptLogprobs?(logprobs: EmittedLogprob[]): void;
  onDone(reason: FinishReason, message?: string, stats?: SequenceStats): void;
}

export class OverloadedError extends Error {}

/**
 * Starts engine-worker in a thread. Run from TypeScript sources (tsx), the thread does not get
 * tsx's loader for its entry module, so a tiny bootstrap registers it first.
 */
function spawnEngineThread(data: EngineWorkerData): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(`./engine-worker${fromSource ? '.ts' : '.js'}`, import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData: data });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

export class EngineClient {
  private worker: Worker | null = null;
  private readonly listeners = new Map<string, GenerationListener>();
  private readonly waiting = new Set<string>();
  /** Ids the HTTP side cancelled, to tell them from generations cut short by stop(). */
  private readonly cancelled = new Set<string>();
  private stopping = false;
  provider: ExecutionProviderName | null = null;
  providerFailures: { provider: string; error: string }[] = [];
  /** The engine's KV layout, known once ready. */
  layout: 'padded' | 'grouped' | null = null;
  ready = false;
  onStep: ((stats: StepStats) => void) | null = null;
  onFatal: ((message: string) => void) | null = null;

  constructor(
    private readonly modelPath: string,
    private readonly providers: ExecutionProviderName[],
    private readonly intraOpThreads: number,
    readonly options: EngineOptions,
  ) {}

  /** Starts the thread and resolves once the model is loaded and warmed up. */
  start(): Promise<void> {
    const data: EngineWorkerData = {
      modelPath: this.modelPath,
      providers: this.providers,
      intraOpThreads: this.intraOpThreads,
      options: this.options,
    };
    const worker = spawnEngineThread(data);
    this.worker = worker;
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    return new Promise((resolve, reject) => {
      this.started = { resolve, reject };
      worker.on('message', (msg: FromEngine) => this.dispatch(msg));
      worker.on('error', (err) => this.fail(err.message));
    });
  }

  private started: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private closed: (() => void) | null = null;
  private exited: Promise<void> = Promise.resolve();

  private fail(message: string): void {
    this.ready = false;
    this.failAll(message);
    this.onFatal?.(message);
    this.started?.reject(new Error(message));
  }

  private dispatch(msg: FromEngine): void {
    if (msg.type === 'ready') {
      this.provider = msg.provider;
      this.providerFailures = msg.failures;
      this.layout = msg.layout;
      this.ready = true;
      this.started?.resolve();
    } else if (msg.type === 'fatal') {
      this.fail(msg.message);
    } else if (msg.type === 'closed') {
      this.closed?.();
    } else if (msg.type === 'events') {
      for (const e of msg.events) this.dispatch(e);
    } else if (msg.type === 'step') {
      this.onStep?.(msg.stats);
    } else if (msg.type === 'admitted') {
      this.waiting.delete(msg.id);
      this.listeners.get(msg.id)?.onAdmitted?.(msg.cachedTokens);
    } else if (msg.type === 'tokens') {
      this.listeners.get(msg.id)?.onTokens(msg.tokens, msg.logprobs);
    } else if (msg.type === 'prompt_logprobs') {
      this.listeners.get(msg.id)?.onPromptLogprobs?.(msg.logprobs);
    } else if (msg.type === 'done') {
      const l = this.listeners.get(msg.id);
      this.listeners.delete(msg.id);
      this.waiting.delete(msg.id);
      const asked = this.cancelled.delete(msg.id);
      // Cut short by an unload or shutdown, not by its client: an error the client can see,
      // rather than the silent close a cancellation gets.
      if (msg.reason === 'cancelled' && this.stopping && !asked) {
        l?.onDone('error', 'the model was unloaded before this generation finished');
      } else {
        l?.onDone(msg.reason, msg.message, msg.stats);
      }
    }
  }

  private failAll(message: string): void {
    for (const [id, l] of this.listeners) {
      this.listeners.delete(id);
      l.onDone('error', message);
    }
    this.waiting.clear();
  }

  /** Requests not yet admitted to a batch slot. */
  get queued(): number {
    return this.waiting.size;
  }
  /** Requests holding a batch slot (prefilling or decoding). */
  get running(): number {
    return this.listeners.size - this.waiting.size;
  }
  /** Requests submitted and not yet done (waiting or running). */
  get inFlight(): number {
    return this.listeners.size;
  }

  /**
   * Submits one generation; throws OverloadedError when the queue is full. Returns a
   * function that cancels it (safe to call after it finished).
   */
  submit(request: GenerationRequest, listener: GenerationListener): () => void {
    if (!this.worker || !this.ready) throw new OverloadedError('model is not ready');
    if (
      this.waiting.size >=
      this.options.maxQueue + Math.max(0, this.options.maxBatch - this.running)
    ) {
      throw new OverloadedError('request queue is full');
    }
    this.listeners.set(request.id, listener);
    this.waiting.add(request.id);
    this.post({ type: 'submit', request });
    return () => {
      if (!this.listeners.has(request.id)) return;
      this.cancelled.add(request.id);
      this.post({ type: 'cancel', id: request.id });
    };
  }

  private post(msg: ToEngine): void {
    this.worker?.postMessage(msg);
  }

  /** Cancels everything, stops the loop and ends the thread. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    const wasReady = this.ready;
    this.worker = null;
    this.ready = false;
    this.stopping = true;
    if (!wasReady) {
      // Still loading (a shutdown during boot): the thread listens to nothing yet, so end it.
      this.started?.reject(new Error('stopped while loading'));
      await worker.terminate();
      this.failAll('the model was unloaded before this generation finished');
      return;
    }
    // A thread that failed to load may already have exited; then there is nothing to wait for.
    const closed = new Promise<void>((resolve) => {
      this.closed = resolve;
      void this.exited.then(resolve);
    });
    worker.postMessage({ type: 'shutdown' } satisfies ToEngine);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)));
    await Promise.race([closed, timeout]);
    clearTimeout(timer);
    await worker.terminate();
    // Requests still listening (the thread died before answering) end now rather than hang.
    this.failAll('the model was unloaded before this generation finished');
    this.cancelled.clear();
  }
}
