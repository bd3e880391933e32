/**
 * Serving side of experiments: which arm (and so which model version) a unit gets for a feature,
 * the feature's default version for every other unit, and the exposure log.
 *
 * - The live configuration (running and paused experiments, feature holdouts) is held in memory
 *   and re-read when a one-row fingerprint query says it changed; the poll runs every second, so a
 *   start, ramp, pause or kill reaches every instance within a few seconds, without a restart.
 *   The request path never queries the database (except the very first request of a process).
 * - Assignment is the pure hash (`createAssigner`); units in the feature's holdout or outside the
 *   coverage get the default and are not exposures.
 * - The default is `Feature.defaultModelVersionId` (set by a promotion or in the console) unless
 *   that version is retired; without one, the first model of the feature's fallback chain.
 * - Exposures: the first time this process sees (experiment, unit), the row is queued; queued rows
 *   are written in batches with `ON CONFLICT DO NOTHING` on the (experiment, unit) key, so the
 *   database holds one row per unit whatever the number of instances, and keystrokes cost no write.
 */
import type { Db } from '~/server/db';
import { createAssigner, inHoldout } from '../assignment';
import { storedRamp, type RampStep } from '../config';
import { modelVersionLabel } from '~/features/models/model-label';

export interface ServedModel {
  id: string | null;
  name: string;
  version: string | null;
  backendModel: string;
  label: string;
}

export interface ArmChoice {
  experimentId: string;
  armId: string;
  model: ServedModel;
}

/** What a unit is served: its arm's model, else the feature's default version, else null (chain). */
export interface ServedChoice {
  arm: ArmChoice | null;
  model: ServedModel | null;
}

interface LiveExperiment {
  id: string;
  configVersion: number;
  assign: (unitId: string) => number | null;
  arms: { id: string; model: ServedModel }[];
}

interface Snapshot {
  experiments: Map<string, LiveExperiment>;
  holdouts: Map<string, number>;
  /** Features' default versions (not retired). */
  defaults: Map<string, ServedModel>;
}

export interface ServingOptions {
  /** How often the fingerprint is polled (default 1 s). */
  pollMs?: number;
  /** How often queued exposures are written (default 250 ms). */
  flushMs?: number;
  /** Exposures written in one statement at most. */
  batchSize?: number;
  /** The seen-set is cleared past this many entries (a repeat is a no-op insert). */
  seenLimit?: number;
  log?: (message: string) => void;
}

interface Exposure {
  experimentId: string;
  armId: string;
  unitId: string;
  configVersion: number;
}

const FINGERPRINT_SQL = `SELECT
  (SELECT count(*) FROM experiment)::int AS n,
  (SELECT max("updatedAt") FROM experiment)::text AS e,
  (SELECT max("updatedAt") FROM feature)::text AS f,
  (SELECT max("updatedAt") FROM model_version)::text AS m`;

export class ExperimentServing {
  private snapshot: Snapshot | null = null;
  private fingerprint = '';
  private loading: Promise<void> | null = null;
  private reloadAfter: Promise<void> | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private seen = new Set<string>();
  private queue: Exposure[] = [];
  private flushing: Promise<void> | null = null;
  private readonly pollMs: number;
  private readonly flushMs: number;
  private readonly batchSize: number;
  private readonly seenLimit: number;
  private readonly log: (message: string) => void;

  constructor(
    private readonly db: Db,
    options: ServingOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 1000;
    this.flushMs = options.flushMs ?? 250;
    this.batchSize = options.batchSize ?? 1000;
    this.seenLimit = options.seenLimit ?? 200_000;
    this.log = options.log ?? ((message) => console.error(message));
  }

  /** The arm for this unit, or null (no live experiment, holdout, outside coverage, or trouble). */
  async resolve(featureId: string, unitId: string): Promise<ArmChoice | null> {
    return (await this.resolveServed(featureId, unitId)).arm;
  }

  /**
   * The arm and the model this unit is served: the arm's, or the feature's default version
   * (outside every experiment, in the holdout, outside coverage). Never throws: on trouble the
   * last loaded default, or null (the fallback chain's first model answers).
   */
  async resolveServed(featureId: string, unitId: string): Promise<ServedChoice> {
    try {
      if (!this.snapshot) await this.refresh();
      this.startTimers();
      const arm = this.resolveLoaded(featureId, unitId);
      return { arm, model: arm?.model ?? this.defaultModel(featureId) };
    } catch (error) {
      // Experiments must never break serving: the default model answers.
      this.log(`experiments: could not resolve an arm: ${String(error)}`);
      return { arm: null, model: this.defaultModel(featureId) };
    }
  }

  /** The feature's default version from the loaded snapshot (null: none set, retired, unloaded). */
  defaultModel(featureId: string): ServedModel | null {
    return this.snapshot?.defaults.get(featureId) ?? null;
  }

  /** Synchronous resolution from the loaded snapshot (benchmarks; null before the first load). */
  resolveLoaded(featureId: string, unitId: string): ArmChoice | null {
    const snapshot = this.snapshot;
    if (!snapshot) return null;
    const experiment = snapshot.experiments.get(featureId);
    if (!experiment) return null;
    const holdout = snapshot.holdouts.get(featureId) ?? 0;
    if (holdout > 0 && inHoldout(featureId, unitId, holdout)) return null;
    const index = experiment.assign(unitId);
    if (index === null) return null;
    const arm = experiment.arms[index];
    if (!arm) return null;
    this.expose(experiment, arm.id, unitId);
    return { experimentId: experiment.id, armId: arm.id, model: arm.model };
  }

  private expose(experiment: LiveExperiment, armId: string, unitId: string): void {
    const key = `${experiment.id}\u0000${unitId}`;
    if (this.seen.has(key)) return;
    if (this.seen.size >= this.seenLimit) this.seen.clear();
    this.seen.add(key);
    this.queue.push({
      experimentId: experiment.id,
      armId,
      unitId,
      configVersion: experiment.configVersion,
    });
    if (this.queue.length >= this.batchSize) void this.flush();
  }

  /**
   * Writes the queued exposures (also called by tests and at shutdown). The run is stored before
   * it settles: an async body that finds the queue empty finishes synchronously, so clearing
   * `flushing` inside it (before `??=` stored it) left a settled promise there for good and every
   * later flush wrote nothing (no exposures, so no ramp step ever had its units).
   */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    const run = this.writeQueued().finally(() => {
      if (this.flushing === run) this.flushing = null;
    });
    this.flushing = run;
    return run;
  }

  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchSize);
      try {
        await this.db.$executeRawUnsafe(
          `INSERT INTO assignment (id, "experimentId", "armId", "unitId", "configVersion")
               SELECT gen_random_uuid()::text, e, a, u, v
               FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS t(e, a, u, v)
               ON CONFLICT ("experimentId", "unitId") DO NOTHING`,
          batch.map((x) => x.experimentId),
          batch.map((x) => x.armId),
          batch.map((x) => x.unitId),
          batch.map((x) => x.configVersion),
        );
      } catch (error) {
        // Forget them so the next request of these units queues them again.
        for (const x of batch) this.seen.delete(`${x.experimentId}\u0000${x.unitId}`);
        this.log(`experiments: could not write ${batch.length} exposures: ${String(error)}`);
        return;
      }
    }
  }

  /**
   * Re-reads the live configuration if its fingerprint changed. A read already under way may have
   * started before the caller's write (a poll tick), so the caller then waits for one more read
   * after it, shared by everyone who asks meanwhile: what it sees is at least as new as its call.
   */
  refresh(): Promise<void> {
    if (!this.loading) {
      const loading = this.load().finally(() => {
        if (this.loading === loading) this.loading = null;
      });
      this.loading = loading;
      return loading;
    }
    this.reloadAfter ??= this.loading
      .catch(() => undefined)
      .then(() => {
        this.reloadAfter = null;
        return this.refresh();
      });
    return this.reloadAfter;
  }

  private async load(): Promise<void> {
    const [fp] =
      await this.db.$queryRawUnsafe<
        { n: number; e: string | null; f: string | null; m: string | null }[]
      >(FINGERPRINT_SQL);
    const fingerprint = `${fp?.n}|${fp?.e}|${fp?.f}|${fp?.m}`;
    if (this.snapshot && fingerprint === this.fingerprint) return;
    const [experiments, features] = await Promise.all([
      this.db.experiment.findMany({
        where: { status: { in: ['running', 'paused'] } },
        select: {
          id: true,
          featureId: true,
          salt: true,
          configVersion: true,
          ramp: true,
          rampStep: true,
          arms: {
            orderBy: { id: 'asc' },
            select: {
              id: true,
              name: true,
              isControl: true,
              allocationBp: true,
              modelVersion: {
                select: { id: true, name: true, version: true, backendModel: true },
              },
            },
          },
        },
      }),
      this.db.feature.findMany({
        select: {
          id: true,
          holdoutBp: true,
          defaultModelVersion: {
            select: { id: true, name: true, version: true, backendModel: true, status: true },
          },
        },
      }),
    ]);
    const snapshot: Snapshot = { experiments: new Map(), holdouts: new Map(), defaults: new Map() };
    for (const f of features) {
      if (f.holdoutBp > 0) snapshot.holdouts.set(f.id, f.holdoutBp / 10_000);
      const d = f.defaultModelVersion;
      // A retired default is served by nobody's choice: the chain answers instead.
      if (d && d.status !== 'retired') snapshot.defaults.set(f.id, servedModel(d));
    }
    for (const e of experiments) {
      const ramp = storedRamp(e.ramp);
      const step = ramp[Math.min(e.rampStep, ramp.length - 1)] as RampStep;
      try {
        snapshot.experiments.set(e.featureId, {
          id: e.id,
          configVersion: e.configVersion,
          assign: createAssigner({
            seed: e.salt,
            weights: armOrder(e.arms).map((a) => a.allocationBp / 10_000),
            coverage: step.coverage,
          }),
          arms: armOrder(e.arms).map((a) => ({ id: a.id, model: servedModel(a.modelVersion) })),
        });
      } catch (error) {
        this.log(`experiments: experiment ${e.id} is not servable: ${String(error)}`);
      }
    }
    this.snapshot = snapshot;
    this.fingerprint = fingerprint;
  }

  private startTimers(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => {
      this.refresh().catch((error: unknown) =>
        this.log(`experiments: could not refresh the configuration: ${String(error)}`),
      );
    }, this.pollMs);
    this.pollTimer.unref();
    this.flushTimer = setInterval(() => void this.flush(), this.flushMs);
    this.flushTimer.unref();
  }

  /** Stops polling and writes what is queued. */
  async stop(): Promise<void> {
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.pollTimer = this.flushTimer = null;
    // A write in progress may have ended its loop before the last exposures were queued.
    await this.flushing;
    await this.flush();
  }
}

function servedModel(v: {
  id: string;
  name: string;
  version: string;
  backendModel: string;
}): ServedModel {
  return {
    id: v.id,
    name: v.name,
    version: v.version,
    backendModel: v.backendModel,
    label: modelVersionLabel(v),
  };
}

/**
 * Arms in the order of the bucket ranges (GrowthBook's variation order): control first, then the
 * treatments by name (unique per experiment, fixed once it has started). The console and the API
 * list arms in the same order.
 */
export function armOrder<T extends { name: string; isControl: boolean }>(arms: readonly T[]): T[] {
  return [...arms].sort((a, b) =>
    a.isControl !== b.isControl
      ? a.isControl
        ? -1
        : 1
      : a.name < b.name
        ? -1
        : a.name > b.name
          ? 1
          : 0,
  );
}

const globalForServing = globalThis as unknown as {
  flywheelExperimentServing?: WeakMap<Db, ExperimentServing>;
};

/** One serving state per database client and process (survives dev hot reloads). */
export function experimentServing(db: Db): ExperimentServing {
  const map = (globalForServing.flywheelExperimentServing ??= new WeakMap());
  let serving = map.get(db);
  if (!serving) {
    serving = new ExperimentServing(db);
    map.set(db, serving);
  }
  return serving;
}
