/**
 * Which model version a `model:<name>` step means: the newest non-retired ModelVersion of that
 * name (an `active` one wins). Read from the database at most every `ttlMs`, so the request path
 * does no query of its own; a name nobody registered yet is called by its bare name (the worker
 * serves `<name>` as its newest version) and stored without a version id.
 */
import type { Db } from '~/server/db';

export interface ResolvedModel {
  /** ModelVersion id; null when the model is not registered (yet). */
  id: string | null;
  name: string;
  version: string | null;
  /** The id the backend serves it under. */
  backendModel: string;
  /** `name/version`, as shown to callers. */
  label: string;
}

export interface ModelCatalog {
  resolve(name: string): Promise<ResolvedModel>;
}

export function unregisteredModel(name: string): ResolvedModel {
  return { id: null, name, version: null, backendModel: name, label: name };
}

const rank = (status: string) => (status === 'active' ? 2 : status === 'registered' ? 1 : 0);
const versionOrder = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

export class DbModelCatalog implements ModelCatalog {
  private byName = new Map<string, ResolvedModel>();
  private loadedAt = -Infinity;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly db: () => Db,
    private readonly ttlMs = 10_000,
    /** Called when a name is missing (e.g. to register the backends' models in the background). */
    private readonly onMiss?: (name: string) => void,
  ) {}

  private async load(): Promise<void> {
    const rows = await this.db().modelVersion.findMany({
      where: { status: { not: 'retired' } },
      select: { id: true, name: true, version: true, backendModel: true, status: true },
    });
    const best = new Map<string, (typeof rows)[number]>();
    for (const row of rows) {
      const current = best.get(row.name);
      if (
        !current ||
        rank(row.status) > rank(current.status) ||
        (rank(row.status) === rank(current.status) &&
          versionOrder(row.version, current.version) > 0)
      )
        best.set(row.name, row);
    }
    this.byName = new Map(
      [...best].map(([name, r]) => [
        name,
        {
          id: r.id,
          name,
          version: r.version,
          backendModel: r.backendModel,
          label: `${name}/${r.version}`,
        },
      ]),
    );
    this.loadedAt = Date.now();
  }

  /** Forget the snapshot (after registering versions). */
  invalidate(): void {
    this.loadedAt = -Infinity;
  }

  async resolve(name: string): Promise<ResolvedModel> {
    if (Date.now() - this.loadedAt > this.ttlMs) {
      // Only the first load is waited for; later refreshes happen behind the current snapshot.
      this.loading ??= this.load()
        .catch((error: unknown) => {
          // Unresolved names still work (bare name); try the database again after the TTL.
          this.loadedAt = Date.now();
          console.error('model catalog: could not load versions:', error);
        })
        .finally(() => (this.loading = null));
      if (this.loadedAt === -Infinity) await this.loading;
    }
    const found = this.byName.get(name);
    if (!found) this.onMiss?.(name);
    return found ?? unregisteredModel(name);
  }
}

/** A fixed catalog (tests, benchmarks). */
export class StaticModelCatalog implements ModelCatalog {
  constructor(private readonly models: ResolvedModel[]) {}
  resolve(name: string): Promise<ResolvedModel> {
    return Promise.resolve(this.models.find((m) => m.name === name) ?? unregisteredModel(name));
  }
}

/** What each backend's `GET /v1/models` lists (BackendPool.listModels). */
export type ServedModelLists = { backend: string; ids: { id: string; root: string | null }[] }[];

export interface ServedModelsWatch {
  /** One look: registers when the served set changed; true when it registered. */
  tick(): Promise<boolean>;
  stop(): void;
}

/**
 * Keeps the registered versions in step with what the backends serve, so a version loaded at run
 * time (the worker's `POST /v2/repository/models/<name>/load`) becomes a ModelVersion within
 * `everyMs`. Each tick re-reads the lists, which is cheap; `register` (a database write) runs only
 * when they changed since the last successful registration, and again after a failed one.
 */
export function watchServedModels(
  list: () => Promise<ServedModelLists>,
  register: () => Promise<unknown>,
  everyMs = 5000,
): ServedModelsWatch {
  let registered: string | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const tick = async () => {
    const lists = await list();
    const served = lists
      .flatMap((l) => l.ids.map((m) => `${l.backend} ${m.id} ${m.root ?? ''}`))
      .sort()
      .join('\n');
    if (served === registered) return false;
    await register();
    registered = served;
    return true;
  };
  const loop = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      tick()
        .catch((error: unknown) =>
          console.error('suggestions: could not register model versions:', error),
        )
        .finally(() => loop(everyMs));
    }, delay);
    timer.unref(); // never what keeps the process alive
  };
  loop(0);
  return {
    tick,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
