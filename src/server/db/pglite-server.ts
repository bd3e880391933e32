import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface RunningDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves PGlite (PostgreSQL in WebAssembly) on the wire protocol on localhost, so the app,
 * the migrator and the tests speak to it exactly as to a real PostgreSQL server.
 * `dataDir` keeps the data across restarts; without it the database lives in memory.
 */
export async function startPglite(
  options: { dataDir?: string; port?: number } = {},
): Promise<RunningDatabase> {
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: options.port ?? 0,
    maxConnections: 16,
  });
  await server.start();
  const address = server.getServerConn();
  return {
    url: `postgresql://postgres@${address}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
