/**
 * The model versions the worker serves, and their life cycle (the Triton/KServe repository
 * model): each version is LOADING, READY, UNLOADING or UNAVAILABLE (with a reason). A
 * version that fails to load is reported and leaves every other one serving. A reload starts
 * a new instance beside the serving one and switches traffic only once it is warm; a replaced
 * or unloaded instance finishes its in-flight generations (bounded by WORKER_UNLOAD_DRAIN_MS)
 * before its thread ends.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EngineClient } from '../engine/engine-client';
import type { WorkerEnv } from '../env';
import { MODEL_NAME, scanModels, type ModelVersion } from './repository';
import { ModelTokenizer } from './tokenizer';

export type ModelState = 'LOADING' | 'READY' | 'UNLOADING' | 'UNAVAILABLE';
export type Precision = 'fp32' | 'int8';

/** One loaded instance of a version: what requests run on. */
export interface ServedModel {
  version: ModelVersion;
  tokenizer: ModelTokenizer;
  engine: EngineClient;
  precision: Precision;
  /** Why the precision asked for is not the one served (no int8 file), else null. */
  precisionNote: string | null;
}

export interface RegistryEntry {
  name: string;
  version: number;
  id: string;
  state: ModelState;
  /** Why it is unavailable, or why its last reload failed while it kept serving; '' if none. */
  reason: string;
  /** The instance taking traffic; null unless READY. */
  served: ServedModel | null;
  /** True after an explicit unload (requests then get 404 rather than 503). */
  unloaded: boolean;
}

export class ModelNotFoundError extends Error {}

export interface RegistryOptions {
  env: WorkerEnv;
  log: (level: 'info' | 'error', msg: string) => void;
  /** Called for every new instance before it takes traffic (metrics hooks). */
  onInstance?: (served: ServedModel) => void;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The model file for a precision: model_int8.onnx when asked and present, else model.onnx. */
export function pickModelFile(
  dir: string,
  wanted: Precision,
): { file: string; precision: Precision; note: string | null } {
  const int8 = path.join(dir, 'model_int8.onnx');
  if (wanted === 'int8' && existsSync(int8)) return { file: int8, precision: 'int8', note: null };
  const note = wanted === 'int8' ? 'int8 asked, but the version has no model_int8.onnx' : null;
  return { file: path.join(dir, 'model.onnx'), precision: 'fp32', note };
}

export class ModelRegistry {
  private readonly entries = new Map<string, RegistryEntry>();
  /** Per model name: the operation in progress (loads and unloads of one name never overlap). */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly draining = new Set<Promise<void>>();
  private stopping = false;

  constructor(private readonly opts: RegistryOptions) {}

  /** Every known version, by name then version. */
  list(): RegistryEntry[] {
    return [...this.entries.values()].sort(
      (a, b) => a.name.localeCompare(b.name) || a.version - b.version,
    );
  }

  /** Instances taking traffic. */
  serving(): ServedModel[] {
    return this.list().flatMap((e) => (e.served ? [e.served] : []));
  }

  /** Instances replaced or unloaded that still finish their generations. */
  /** Engine threads loading now (stopped at once by a shutdown). */
  private readonly starting = new Set<EngineClient>();

  get drainingCount(): number {
    return this.draining.size;
  }

  /**
   * "<name>/<version>", "<name>:<version>" or "<name>" (its highest READY version, else its
   * highest version whatever its state, so the caller can say why it cannot serve).
   */
  resolve(id: string): RegistryEntry | undefined {
    const all = this.list();
    const exact = all.find((e) => e.id === id || `${e.name}:${e.version}` === id);
    if (exact) return exact;
    const named = all.filter((e) => e.name === id).sort((a, b) => b.version - a.version);
    return named.find((e) => e.state === 'READY') ?? named[0];
  }

  private serialize<T>(name: string, op: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    const next = previous.then(op, op);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(name, settled);
    void settled.then(() => {
      if (this.locks.get(name) === settled) this.locks.delete(name);
    });
    return next;
  }

  /** Boot: loads every version in the repository; resolves when each has loaded or failed. */
  async loadAll(): Promise<void> {
    const { versions, broken } = scanModels(this.opts.env.MODEL_REPOSITORY);
    const names = new Set([...versions, ...broken].map((v) => v.name));
    await Promise.all([...names].map((name) => this.load(name)));
  }

  /**
   * Loads (or reloads) every version of `name` found on disk, and unloads versions whose
   * folder is gone. Resolves with the failures (empty when all loaded); throws
   * ModelNotFoundError when the repository has no folder of that name.
   */
  load(name: string, precision?: Precision): Promise<string[]> {
    if (!MODEL_NAME.test(name)) return Promise.reject(new ModelNotFoundError(name));
    return this.serialize(name, async () => {
      const root = this.opts.env.MODEL_REPOSITORY;
      if (!existsSync(path.join(root, name))) throw new ModelNotFoundError(name);
      const { versions, broken } = scanModels(root, name);
      const known = this.list().some((e) => e.name === name);
      if (versions.length === 0 && broken.length === 0 && !known) {
        throw new ModelNotFoundError(`${name} has no numbered version folder`);
      }
      const failures: string[] = [];
      for (const b of broken) {
        const entry = this.entry(b.name, b.version);
        entry.unloaded = false;
        failures.push(`${b.id}: ${b.reason}`);
        if (entry.served)
          entry.reason = `reload failed, still serving the previous load: ${b.reason}`;
        else [entry.state, entry.reason] = ['UNAVAILABLE', b.reason];
        this.opts.log('error', `${b.id} cannot be loaded: ${b.reason}`);
      }
      const results = await Promise.all(
        versions.map((v) => this.loadVersion(v, precision ?? this.opts.env.WORKER_PRECISION)),
      );
      failures.push(...results.filter((r): r is string => r !== null));
      const onDisk = new Set([...versions.map((v) => v.id), ...broken.map((b) => b.id)]);
      const gone = this.list().filter((e) => e.name === name && !onDisk.has(e.id));
      await Promise.all(gone.map((e) => this.unloadEntry(e)));
      return failures;
    });
  }

  /** Unloads every version of `name`: no new requests, in-flight ones drain, then freed. */
  unload(name: string): Promise<void> {
    return this.serialize(name, async () => {
      const entries = this.list().filter((e) => e.name === name);
      if (entries.length === 0) throw new ModelNotFoundError(name);
      await Promise.all(entries.map((e) => this.unloadEntry(e)));
    });
  }

  /** Shutdown: ends every engine thread, draining ones included, cancelling what still runs. */
  async stopAll(): Promise<void> {
    this.stopping = true; // drains stop waiting: the shutdown grace has already been given
    // Engines still loading (a signal during boot) end too, rather than finish loading first.
    await Promise.all([...this.starting].map((engine) => engine.stop()));
    await Promise.all([...this.draining]);
    await Promise.all(this.serving().map((s) => s.engine.stop()));
  }

  private entry(name: string, version: number): RegistryEntry {
    const id = `${name}/${version}`;
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { name, version, id, state: 'LOADING', reason: '', served: null, unloaded: false };
      this.entries.set(id, entry);
    }
    return entry;
  }

  /** Returns the failure reason, or null when the version now serves from a new instance. */
  private async loadVersion(version: ModelVersion, wanted: Precision): Promise<string | null> {
    const entry = this.entry(version.name, version.version);
    entry.unloaded = false;
    if (!entry.served) [entry.state, entry.reason] = ['LOADING', ''];
    const started = performance.now();
    try {
      const served = await this.startInstance(version, wanted);
      const old = entry.served;
      [entry.served, entry.state, entry.reason] = [served, 'READY', ''];
      // An engine thread that dies later takes its version out of service, with the reason.
      const report = served.engine.onFatal;
      served.engine.onFatal = (reason) => {
        report?.(reason);
        if (entry.served !== served) return;
        [entry.served, entry.state, entry.reason] = [
          null,
          'UNAVAILABLE',
          `engine failed: ${reason}`,
        ];
        void served.engine.stop();
      };
      // The load answers once the new instance serves; the old one drains behind it.
      if (old) void this.drain(old);
      const ms = Math.round(performance.now() - started);
      this.opts.log(
        'info',
        `${version.id} ${old ? 'reloaded' : 'ready'} on ${served.engine.provider} (${served.precision}, ${ms} ms)` +
          (served.precisionNote ? `; ${served.precisionNote}, serving fp32` : ''),
      );
      return null;
    } catch (err) {
      const reason = message(err);
      if (entry.served) entry.reason = `reload failed, still serving the previous load: ${reason}`;
      else [entry.state, entry.reason] = ['UNAVAILABLE', reason];
      this.opts.log('error', `${version.id} failed to load: ${reason}`);
      return `${version.id}: ${reason}`;
    }
  }

  private async startInstance(version: ModelVersion, wanted: Precision): Promise<ServedModel> {
    const { env } = this.opts;
    const tokenizer = ModelTokenizer.load(version);
    const { file, precision, note } = pickModelFile(version.dir, wanted);
    const engine = new EngineClient(
      file,
      env.WORKER_EXECUTION_PROVIDERS,
      env.WORKER_INTRA_OP_THREADS,
      {
        contextLength: version.config.contextLength,
        eos: tokenizer.eosTokenIds,
        maxBatch: env.WORKER_MAX_BATCH,
        maxQueue: env.WORKER_MAX_QUEUE,
        kvCacheBytes: env.WORKER_KV_CACHE_BYTES,
        maxDraft: env.WORKER_SPECULATIVE_TOKENS,
        prefillChunk: env.WORKER_PREFILL_CHUNK,
        kvLayout: env.WORKER_KV_LAYOUT,
      },
    );
    const served: ServedModel = { version, tokenizer, engine, precision, precisionNote: note };
    this.opts.onInstance?.(served);
    this.starting.add(engine);
    try {
      await engine.start();
    } catch (err) {
      await engine.stop();
      throw err;
    } finally {
      this.starting.delete(engine);
    }
    return served;
  }

  private async unloadEntry(entry: RegistryEntry): Promise<void> {
    const served = entry.served;
    [entry.served, entry.state, entry.reason] = [null, 'UNLOADING', ''];
    if (served) await this.drain(served);
    [entry.state, entry.reason, entry.unloaded] = ['UNAVAILABLE', 'unloaded', true];
    this.opts.log('info', `${entry.id} unloaded`);
  }

  /**
   * Ends an instance that no longer takes new requests once its in-flight ones finish, or
   * after WORKER_UNLOAD_DRAIN_MS (the rest then fail with a message). Requests pick their
   * instance and submit to it in one synchronous stretch, so none can arrive after this starts.
   */
  private drain(served: ServedModel): Promise<void> {
    const deadline = Date.now() + this.opts.env.WORKER_UNLOAD_DRAIN_MS;
    const done = (async () => {
      while (served.engine.inFlight > 0 && Date.now() < deadline && !this.stopping) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await served.engine.stop();
    })();
    this.draining.add(done);
    const forget = () => void this.draining.delete(done);
    done.then(forget, forget);
    return done;
  }
}
