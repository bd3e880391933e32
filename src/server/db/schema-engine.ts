import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';
import { loadServerEnv } from '../env';

// Prisma's schema engine compiled to WebAssembly: migrations without the native engine binary,
// which the Prisma CLI would download (and these machines cannot).
// Node 20 cannot `import` a .wasm file, so the module is instantiated by hand.
async function loadEngineModule(): Promise<typeof import('@prisma/schema-engine-wasm')> {
  const entry = pathToFileURL(
    createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm'),
  ).href;
  const bindings = (await import(
    new URL('./schema_engine_bg.js', entry).href
  )) as typeof import('@prisma/schema-engine-wasm') & {
    __wbg_set_wasm(exports: WebAssembly.Exports): void;
  };
  const bytes = await readFile(new URL('./schema_engine_bg.wasm', entry));
  const compiled = await WebAssembly.compile(bytes);
  const instance = await WebAssembly.instantiate(compiled, {
    './schema_engine_bg.js': bindings as unknown as WebAssembly.ModuleImports,
  });
  bindings.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return bindings;
}

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;
type Field = { dataTypeID: number };
type PerformIO = (this: Queryable, query: unknown) => Promise<{ fields: Field[] }>;
type Queryable = { performIO: PerformIO };
let patchedQueryable: Queryable | undefined;

/**
 * adapter-pg 7.10 cannot map PostgreSQL's internal one-byte `"char"` type (OID 18), which the
 * engine's catalog introspection selects (`relkind`, `contype`, …), and fails the diff. Its
 * values arrive as strings, so reading them as text is exact. Patched on the shared base class
 * so transactions opened by the engine get it too; this module is loaded only by the migrator.
 */
function readCharAsText(adapter: object): void {
  let proto = Object.getPrototypeOf(adapter) as object | null;
  while (proto && !Object.hasOwn(proto, 'performIO'))
    proto = Object.getPrototypeOf(proto) as object | null;
  if (!proto || proto === patchedQueryable) return;
  const queryable = proto as Queryable;
  const performIO = queryable.performIO;
  queryable.performIO = async function (this: Queryable, query: unknown) {
    const result = await performIO.call(this, query);
    for (const field of result.fields)
      if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
    return result;
  };
  patchedQueryable = queryable;
}

type Scriptable = {
  executeScript(script: string): Promise<void>;
  client: { query(sql: string): Promise<unknown> };
  onError(error: unknown): never;
};
let patchedScriptable: Scriptable | undefined;

/**
 * adapter-pg 7.10 runs a migration script by splitting it at every `;`, which breaks statements
 * that contain one: function bodies in `$$ … $$`, string literals, comments. The native engine
 * sends the whole script as one simple query, which PostgreSQL parses statement by statement
 * (all in one implicit transaction, unless the script has its own BEGIN/COMMIT); so does this.
 */
function runScriptsWhole(adapter: object): void {
  let proto = Object.getPrototypeOf(adapter) as object | null;
  while (proto && !Object.hasOwn(proto, 'executeScript'))
    proto = Object.getPrototypeOf(proto) as object | null;
  if (!proto || proto === patchedScriptable) return;
  const scriptable = proto as Scriptable;
  scriptable.executeScript = async function (this: Scriptable, script: string) {
    try {
      await this.client.query(script);
    } catch (error) {
      this.onError(error);
    }
  };
  patchedScriptable = scriptable;
}

let enginePromise: ReturnType<typeof loadEngineModule> | undefined;

async function connectPatched(factory: PrismaPg) {
  const adapter = await factory.connect();
  readCharAsText(adapter);
  runScriptsWhole(adapter);
  return adapter;
}

/**
 * Opens a schema engine on `url`. `shadowUrl`, when given, is the scratch database that
 * `migrate dev`-style diffs replay the migration history on.
 */
export async function openSchemaEngine(
  datamodel: string,
  url: string,
  shadowUrl?: string,
): Promise<SchemaEngine> {
  enginePromise ??= loadEngineModule();
  const debug = loadServerEnv().PRISMA_ENGINE_DEBUG;
  const { SchemaEngine } = await enginePromise;
  const main = new PrismaPg({ connectionString: url });
  const opened: Awaited<ReturnType<typeof connectPatched>>[] = [];
  const track = async (connecting: ReturnType<typeof connectPatched>) => {
    const adapter = await connecting;
    opened.push(adapter);
    return adapter;
  };
  const factory = {
    provider: 'postgres' as const,
    adapterName: main.adapterName,
    connect: () => track(connectPatched(main)),
    connectToShadowDb: () =>
      shadowUrl
        ? track(connectPatched(new PrismaPg({ connectionString: shadowUrl })))
        : Promise.reject(new Error('This command needs a shadow database')),
  };
  const engine = await SchemaEngine.new(
    { datamodels: [['schema.prisma', datamodel]] },
    (log: string) => {
      if (debug) console.error(log);
    },
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  openConnections.set(engine, opened);
  return engine;
}

const openConnections = new WeakMap<SchemaEngine, { dispose(): Promise<void> }[]>();

/**
 * Frees the engine and closes its connections. Freeing alone leaves them idle in their pools,
 * still holding the migration advisory lock until pg's idle timeout (10 s): the next
 * `applyMigrations` on that database then waits for the lock, and under load times out.
 */
export async function closeSchemaEngine(engine: SchemaEngine): Promise<void> {
  engine.free();
  await Promise.all((openConnections.get(engine) ?? []).map((a) => a.dispose().catch(() => {})));
}
