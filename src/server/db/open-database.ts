import type { ServerEnv } from '../env';
import { startPglite, type RunningDatabase } from './pglite-server';

/** The configured PostgreSQL server, or the embedded PGlite served on localhost. */
export async function openDatabase(
  env: Pick<ServerEnv, 'DATABASE_URL' | 'PGLITE_DATA_DIR'>,
): Promise<RunningDatabase & { embedded: boolean }> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, embedded: false, stop: async () => {} };
  const db = await startPglite({ dataDir: env.PGLITE_DATA_DIR });
  return { ...db, embedded: true };
}
