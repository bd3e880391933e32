import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb } from '../db';
import {
  DatabaseStartError,
  startEmbeddedPostgres,
  type RunningDatabase,
} from './embedded-postgres';
import { applyMigrations } from './migrations';

const quiet = { log: () => {} };
const folders: string[] = [];
const running: RunningDatabase[] = [];

async function folder(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flywheel-embedded-test-'));
  await chmod(dir, 0o711); // as root the server runs as `postgres`, which must enter it
  folders.push(dir);
  return path.join(dir, 'postgres');
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((db) => db.stop()));
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('embedded PostgreSQL', () => {
  it('initialises an empty folder once and keeps its data across restarts', async () => {
    const dir = await folder();
    let database = await startEmbeddedPostgres({ dir, ...quiet });
    expect(database.initialised).toBe(true);
    expect(await applyMigrations(database.url)).toContain('20261124155408_init');
    let db = createDb(database.url);
    await db.feature.create({ data: { id: 'f', task: 'completion', config: {}, configHash: 'h' } });
    await db.$disconnect();
    await database.stop();

    database = await startEmbeddedPostgres({ dir, ...quiet });
    running.push(database);
    expect(database.initialised).toBe(false);
    expect(await applyMigrations(database.url)).toEqual([]);
    db = createDb(database.url);
    expect(await db.feature.count()).toBe(1);
    await db.$disconnect();
  });

  it('listens on 127.0.0.1 only, with a generated password kept in the folder', async () => {
    const [a, b] = await Promise.all([folder(), folder()]);
    const first = await startEmbeddedPostgres({ dir: a, ...quiet });
    running.push(first);
    const second = await startEmbeddedPostgres({ dir: b, ...quiet });
    running.push(second);

    const url = new URL(first.url);
    expect(url.hostname).toBe('127.0.0.1');
    const password = (await readFile(path.join(a, 'password'), 'utf8')).trim();
    expect(decodeURIComponent(url.password)).toBe(password);
    expect(password.length).toBeGreaterThanOrEqual(32);
    expect((await stat(path.join(a, 'password'))).mode & 0o077).toBe(0);
    expect(decodeURIComponent(new URL(second.url).password)).not.toBe(password);

    const [settings] = await query<{ listen: string; sockets: string; auth: string }>(
      first.url,
      `SELECT current_setting('listen_addresses') AS listen,
              current_setting('unix_socket_directories') AS sockets,
              current_setting('password_encryption') AS auth`,
    );
    expect(settings).toEqual({ listen: '127.0.0.1', sockets: '', auth: 'scram-sha-256' });
    const wrong = new URL(first.url);
    wrong.password = 'not-the-password';
    await expect(query(wrong.toString(), 'SELECT 1')).rejects.toThrow(/password/);
  });

  it('refuses a second owner of a running folder; db:migrate attaches to it', async () => {
    const dir = await folder();
    const first = await startEmbeddedPostgres({ dir, ...quiet });
    running.push(first);

    await expect(startEmbeddedPostgres({ dir, ...quiet })).rejects.toThrow(
      new RegExp(`already in use by process ${process.pid}`),
    );
    const attached = await startEmbeddedPostgres({ dir, ifRunning: 'attach', ...quiet });
    expect(attached.attached).toBe(true);
    expect(attached.url).toBe(first.url);
    await attached.stop(); // leaves the owner's server running
    expect(await query(first.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('takes over a server left running by a start that was killed', async () => {
    const dir = await folder();
    const orphan = await startEmbeddedPostgres({ dir, ...quiet });
    running.push(orphan);
    const gone = spawnSync(process.execPath, ['-e', '']).pid; // a process id nobody has now
    await writeFile(path.join(dir, 'owner.pid'), `${gone}\n`);

    const lines: string[] = [];
    const database = await startEmbeddedPostgres({ dir, log: (l) => lines.push(l) });
    running.push(database);
    expect(lines.join('\n')).toMatch(/left running by an earlier start/);
    expect(database.initialised).toBe(false);
    expect(await query(database.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it.runIf(process.getuid?.() === 0)(
    'names the folder the postgres user cannot enter, and the fix',
    async () => {
      const parent = path.dirname(await folder());
      const locked = path.join(parent, 'locked');
      await mkdir(locked, { mode: 0o700 });
      await chmod(locked, 0o700);
      const error = await startEmbeddedPostgres({
        dir: path.join(locked, 'data'),
        ...quiet,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DatabaseStartError);
      expect((error as Error).message).toBe(
        `The embedded PostgreSQL runs as the system user "postgres", which cannot enter ${locked}: ` +
          `allow it with \`chmod o+x ${locked}\`, or set EMBEDDED_DATABASE_DIR to a folder outside it.`,
      );
    },
  );
});
