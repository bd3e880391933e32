import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_EMBEDDED_DATABASE_DIR, type ServerEnv } from '../env';
import { startEmbeddedPostgres, type RunningDatabase } from './embedded-postgres';
import { importPgliteFolder } from './pglite-import';

/** Where releases before the embedded PostgreSQL kept their PGlite data. */
export const LEGACY_PGLITE_DIR = '.data/pglite';

export type DatabaseEnv = Pick<
  ServerEnv,
  'DATABASE_URL' | 'EMBEDDED_DATABASE_DIR' | 'EMBEDDED_DATABASE_PORT' | 'PGLITE_DATA_DIR'
>;

export interface OpenDatabase extends RunningDatabase {
  embedded: boolean;
  /** One line for the start-up log: which database, and for the embedded one its start times. */
  description: string;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** A path as the user would type it: relative inside the working directory, absolute outside. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/**
 * The configured PostgreSQL server (`DATABASE_URL`), or the embedded PostgreSQL 18 with its data
 * in `EMBEDDED_DATABASE_DIR`, started here. On the embedded server's start, a PGlite folder left
 * by an older release is imported into it once (see pglite-import.ts).
 * `ifRunning: 'attach'` uses an embedded server that another process (npm start) runs instead
 * of refusing to start a second one on the same folder.
 */
export async function openDatabase(
  env: DatabaseEnv,
  options: { ifRunning?: 'refuse' | 'attach'; log?: (line: string) => void } = {},
): Promise<OpenDatabase> {
  const log = options.log ?? ((line: string) => console.log(line));
  const legacy = env.PGLITE_DATA_DIR ?? LEGACY_PGLITE_DIR;
  if (env.DATABASE_URL) {
    if (existsSync(path.join(legacy, 'PG_VERSION')))
      log(
        `Note: ${legacy} holds PGlite data from an older release; it is not used with DATABASE_URL (start once without DATABASE_URL to import it into the embedded PostgreSQL).`,
      );
    return {
      url: env.DATABASE_URL,
      embedded: false,
      description: 'DATABASE_URL',
      stop: async () => {},
    };
  }
  const db = await startEmbeddedPostgres({
    dir: env.EMBEDDED_DATABASE_DIR ?? DEFAULT_EMBEDDED_DATABASE_DIR,
    port: env.EMBEDDED_DATABASE_PORT,
    ifRunning: options.ifRunning ?? 'refuse',
    log,
  });
  const where = shown(db.dir);
  const times = db.attached
    ? 'already running'
    : [
        db.initialised ? `initialised in ${seconds(db.timings.initialiseMs)}` : '',
        `started in ${seconds(db.timings.startMs)}`,
      ]
        .filter(Boolean)
        .join(', ');
  if (!db.attached) {
    try {
      const imported = await importPgliteFolder({
        from: legacy,
        url: db.url,
        target: `the embedded PostgreSQL in ${where}`,
      });
      if (imported) {
        const total = Object.values(imported.rows).reduce((a, b) => a + b, 0);
        log(
          `Imported the PGlite data of an older release (${total} rows in ${Object.keys(imported.rows).length} tables) into ${where}; ` +
            `the PGlite folder is kept as ${shown(imported.renamedTo)}.`,
        );
      }
    } catch (error) {
      await db.stop();
      throw error;
    }
  }
  return {
    url: db.url,
    stop: () => db.stop(),
    embedded: true,
    description: `embedded PostgreSQL 18 in ${where} (${times})`,
  };
}
