import {
  claimOutboxRows,
  markOutboxDelivered,
  markOutboxFailed,
  pruneDeliveredOutbox,
  type Backoff,
} from '~/features/feedback/server/outbox';
import { configuredSinks } from '~/features/feedback/server/sinks/configured-sinks';
import {
  inRepoWorkerOrigins,
  type ProviderConfig,
} from '~/features/feedback/server/sinks/provider-name';
import {
  generationIdOf,
  loadGenerationsForSinks,
  type DeliveryItem,
  type OutboxSink,
} from '~/features/feedback/server/sinks/sink';
import type { Db } from '~/server/db';
import type { ServerEnv } from '~/server/env';

export interface OutboxDispatcherOptions {
  db: Db;
  sinks: OutboxSink[];
  /** Rows claimed (and sent in one request) per sink and round. */
  batchSize?: number;
  /** How long a claim hides rows from other dispatchers; longer than one delivery can take. */
  leaseMs?: number;
  backoff?: Backoff;
  /** Pause between rounds that found nothing (a full batch is followed at once by the next). */
  intervalMs?: number;
  now?: () => Date;
  log?: (message: string) => void;
  /** How backends are named to the sinks (the in-repo worker's origins). */
  providers?: ProviderConfig;
}

export interface RoundResult {
  claimed: number;
  delivered: number;
  failed: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 1_000, maxMs: 5 * 60_000 };

/**
 * Moves outbox rows to their sinks. Several dispatchers (one per app instance) may run at once:
 * each round claims rows with FOR UPDATE SKIP LOCKED and a lease, delivers them, then marks them
 * delivered, or puts them back with exponential backoff when the sink failed. A crash between
 * delivery and marking re-sends a batch once the lease ends; the copies carry stable ids
 * (PostHog uuid, span ids) so the receiver can recognise them.
 */
export function createOutboxDispatcher(options: OutboxDispatcherOptions) {
  const { db, sinks } = options;
  const batchSize = options.batchSize ?? 100;
  const leaseMs = options.leaseMs ?? 60_000;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const clock = options.now ?? (() => new Date());
  const log = options.log ?? ((message: string) => console.warn(message));

  async function dispatchSink(sink: OutboxSink): Promise<RoundResult> {
    const claim = await claimOutboxRows(db, sink.name, {
      limit: batchSize,
      leaseMs,
      now: clock(),
    });
    if (claim.rows.length === 0) return { claimed: 0, delivered: 0, failed: 0 };
    const generations = await loadGenerationsForSinks(
      db,
      [...new Set(claim.rows.map(generationIdOf))],
      options.providers,
    );
    const items: DeliveryItem[] = [];
    const gone: bigint[] = [];
    for (const row of claim.rows) {
      const generation = generations.get(generationIdOf(row)) ?? null;
      // A deleted generation (its feedback cascades away with it) has nothing left to copy.
      if (row.kind === 'generation' && !generation) gone.push(row.id);
      else items.push({ row, generation });
    }
    await markOutboxDelivered(db, claim, gone, clock(), 'skipped: the generation was deleted');
    const ids = items.map((i) => i.row.id);
    try {
      await sink.deliver(items);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await markOutboxFailed(db, claim, ids, message, { now: clock(), backoff });
      log(`outbox: ${sink.name} failed for ${ids.length} rows (will retry): ${message}`);
      return { claimed: claim.rows.length, delivered: gone.length, failed: ids.length };
    }
    await markOutboxDelivered(db, claim, ids, clock());
    return { claimed: claim.rows.length, delivered: claim.rows.length, failed: 0 };
  }

  /** One round: one claimed batch per sink. */
  async function runOnce(): Promise<Record<string, RoundResult>> {
    const results: Record<string, RoundResult> = {};
    for (const sink of sinks) results[sink.name] = await dispatchSink(sink);
    return results;
  }

  let running: Promise<void> | null = null;
  let stopped = false;
  let wake: (() => void) | null = null;

  async function loop(intervalMs: number) {
    while (!stopped) {
      let full = false;
      try {
        const results = await runOnce();
        full = Object.values(results).some((r) => r.claimed === batchSize && r.failed === 0);
      } catch (error) {
        // The database may be briefly unreachable: claimed rows come back when their lease ends.
        log(`outbox: round failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (full || stopped) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  }

  return {
    runOnce,
    start() {
      stopped = false;
      running ??= loop(options.intervalMs ?? 2_000);
    },
    /** Finishes the round in progress, then stops. */
    async stop() {
      stopped = true;
      wake?.();
      await running;
      running = null;
      for (const sink of sinks) await sink.close?.();
    },
  };
}
export type OutboxDispatcher = ReturnType<typeof createOutboxDispatcher>;

const globalForJobs = globalThis as unknown as { flywheelOutboxDispatcher?: OutboxDispatcher };

/**
 * Starts the dispatcher for the sinks the environment configures (once per process, also across
 * dev hot reloads). Without a sink nothing runs and copies wait in the outbox.
 */
export function startOutboxDispatcher(
  db: Db,
  env: Pick<
    ServerEnv,
    | 'POSTHOG_API_KEY'
    | 'POSTHOG_HOST'
    | 'OTEL_EXPORTER_OTLP_ENDPOINT'
    | 'OUTBOX_DISPATCH_INTERVAL_MS'
    | 'OUTBOX_BATCH_SIZE'
    | 'START_WORKER'
    | 'WORKER_PORT'
  >,
): OutboxDispatcher | null {
  if (globalForJobs.flywheelOutboxDispatcher) return globalForJobs.flywheelOutboxDispatcher;
  const sinks = configuredSinks(env);
  if (sinks.length === 0) {
    console.log(
      '  Outbox: no sink configured; set POSTHOG_API_KEY or OTEL_EXPORTER_OTLP_ENDPOINT to send PostHog/OTel copies.',
    );
    return null;
  }
  const dispatcher = createOutboxDispatcher({
    db,
    sinks,
    batchSize: env.OUTBOX_BATCH_SIZE,
    intervalMs: env.OUTBOX_DISPATCH_INTERVAL_MS,
    providers: { workerOrigins: inRepoWorkerOrigins(env) },
  });
  dispatcher.start();
  globalForJobs.flywheelOutboxDispatcher = dispatcher;
  return dispatcher;
}

const PRUNE_EVERY_MS = 60_000;

/**
 * Deletes delivered outbox rows once they are older than the retention period, at most once a
 * minute and in bounded chunks (several instances may run it: SKIP LOCKED keeps them apart).
 */
export function startOutboxPruner(db: Db, env: Pick<ServerEnv, 'OUTBOX_RETENTION_HOURS'>) {
  const globalForPruner = globalThis as unknown as { flywheelOutboxPruner?: NodeJS.Timeout };
  if (globalForPruner.flywheelOutboxPruner) return;
  const prune = () =>
    void pruneDeliveredOutbox(db, new Date(Date.now() - env.OUTBOX_RETENTION_HOURS * 3_600_000))
      .then((n) => n > 0 && console.log(`outbox: pruned ${n} delivered rows`))
      .catch((error: unknown) => console.warn(`outbox: prune failed: ${String(error)}`));
  globalForPruner.flywheelOutboxPruner = setInterval(prune, PRUNE_EVERY_MS).unref();
}
