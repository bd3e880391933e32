import { execFile } from 'node:child_process';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadServerEnv } from '../env';
import type { RunningDatabase } from './embedded-postgres';
import { freePort } from './ports';

const run = promisify(execFile);

/**
 * Starts a throwaway PostgreSQL cluster from the Debian binaries (for tests and for the shadow
 * database of `db:migration:create`). PostgreSQL refuses to run as root, so as root the cluster
 * belongs to the `postgres` user.
 */
export async function startPostgresCluster(
  pgBin = loadServerEnv().PG_BIN_DIR,
): Promise<RunningDatabase> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flywheel-pg-'));
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const exec = async (command: string, args: string[]) => {
    if (!asRoot) return run(path.join(pgBin, command), args);
    const quoted = [path.join(pgBin, command), ...args].map((a) => `'${a}'`).join(' ');
    return run('su', ['postgres', '-c', quoted]);
  };
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await chmod(dir, 0o700);
  await exec('initdb', ['-D', dir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  await exec('pg_ctl', [
    '-D',
    dir,
    '-w',
    '-l',
    path.join(dir, 'server.log'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
    'start',
  ]);
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    async stop() {
      await exec('pg_ctl', ['-D', dir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
