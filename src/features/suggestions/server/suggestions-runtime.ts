/**
 * The long-lived parts of the suggestion path: one backend pool per process (circuit state must
 * outlive requests) and, per database client, a model catalog and a gateway. Model versions the
 * backends serve are registered at start (on-server-start) and again, in the background, when a
 * request names a model the catalog does not know (a worker that was still starting).
 */
import { configuredSinkNames } from '~/features/feedback/server/outbox';
import { registerServedModels } from '~/features/models/server/model-registry-service';
import type { Db } from '~/server/db';
import { env } from '~/server/env';
import { BackendPool } from './backend-pool';
import { syncFeatures } from './feature-sync';
import { Gateway } from './gateway';
import { GenerationRecorder } from './generation-store';
import { GenerationWriter, type GenerationWriterOptions } from './generation-writer';
import {
  DbModelCatalog,
  watchServedModels,
  type ModelCatalog,
  type ServedModelsWatch,
} from './model-catalog';

export interface SuggestionRuntime {
  db: Db;
  pool: BackendPool;
  catalog: ModelCatalog;
  gateway: Gateway;
  /** Caps Generations per unit and hands them to the batched writer (generation-writer.ts). */
  recorder: GenerationRecorder;
  /** Registers the backends' models and re-mirrors the features (also called at start). */
  refreshModels: () => Promise<string[]>;
}

const REGISTER_EVERY_MS = 30_000;

export interface RuntimeOptions {
  catalog?: ModelCatalog;
  writer?: Partial<Omit<GenerationWriterOptions, 'db'>>;
  generationsPerUnitPerMinute?: number;
}

export function createSuggestionRuntime(
  db: Db,
  pool: BackendPool,
  options: RuntimeOptions = {},
): SuggestionRuntime {
  const { catalog } = options;
  const config = env();
  const writer = new GenerationWriter({
    db,
    sinks: () => configuredSinkNames(config),
    capacity: config.GENERATION_QUEUE_CAPACITY,
    ...options.writer,
  });
  let lastRegistration = -Infinity;
  let dbCatalog: DbModelCatalog | null = null;
  const refreshModels = async () => {
    lastRegistration = Date.now();
    const lists = await pool.listModels();
    const ids = await registerServedModels(
      db,
      lists.flatMap((l) => l.ids),
    );
    dbCatalog?.invalidate();
    await syncFeatures(db, runtime.catalog);
    return ids;
  };
  if (!catalog) {
    dbCatalog = new DbModelCatalog(
      () => db,
      10_000,
      () => {
        if (Date.now() - lastRegistration < REGISTER_EVERY_MS) return;
        void refreshModels().catch((error: unknown) =>
          console.error('suggestions: could not register model versions:', error),
        );
      },
    );
  }
  const resolved = catalog ?? (dbCatalog as DbModelCatalog);
  const runtime: SuggestionRuntime = {
    db,
    pool,
    catalog: resolved,
    gateway: new Gateway(pool, resolved),
    recorder: new GenerationRecorder(
      writer,
      options.generationsPerUnitPerMinute ?? config.GENERATIONS_PER_UNIT_PER_MINUTE,
    ),
    refreshModels,
  };
  return runtime;
}

const globalForPool = globalThis as unknown as {
  flywheelBackendPool?: BackendPool;
  flywheelRuntimes?: WeakMap<Db, SuggestionRuntime>;
};

/** The process's backends (INFERENCE_BACKENDS); survives dev hot reloads. */
export function backendPool(): BackendPool {
  const { INFERENCE_BACKENDS, SUGGEST_BREAKER_FAILURES, SUGGEST_BREAKER_COOLDOWN_MS } = env();
  globalForPool.flywheelBackendPool ??= new BackendPool(INFERENCE_BACKENDS, {
    failureThreshold: SUGGEST_BREAKER_FAILURES,
    cooldownMs: SUGGEST_BREAKER_COOLDOWN_MS,
  });
  return globalForPool.flywheelBackendPool;
}

export function suggestionRuntime(db: Db): SuggestionRuntime {
  const runtimes = (globalForPool.flywheelRuntimes ??= new WeakMap());
  let runtime = runtimes.get(db);
  if (!runtime) {
    runtime = createSuggestionRuntime(db, backendPool());
    runtimes.set(db, runtime);
  }
  return runtime;
}

/**
 * At server start: mirror the features, then keep registering the backends' models: their lists
 * are re-read every `everyMs` and registered when they change (the worker may still be starting,
 * and versions are loaded at run time through its repository API).
 */
export async function startSuggestions(db: Db, everyMs = 5000): Promise<ServedModelsWatch> {
  const runtime = suggestionRuntime(db);
  await syncFeatures(db);
  return watchServedModels(
    () => runtime.pool.listModels(),
    () => runtime.refreshModels(),
    everyMs,
  );
}
