// npm start: the whole product on one machine. The embedded PostgreSQL unless DATABASE_URL is set,
// the migrations, the inference worker (unless START_WORKER=0) and the Next.js server; Ctrl-C stops
// all, the database last.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { applyMigrations } from '../src/server/db/migrations';
import { DatabaseStartError } from '../src/server/db/embedded-postgres';
import { openDatabase, type OpenDatabase } from '../src/server/db/open-database';
import { childEnvironment, EnvError, loadServerEnv, type ServerEnv } from '../src/server/env';
import { buildIfStale } from './build-if-stale';
import { startService, stopService } from './processes';

const root = path.resolve(import.meta.dirname, '..');
const dev = process.argv.includes('--dev');

let env: ServerEnv;
try {
  env = loadServerEnv();
} catch (error) {
  if (error instanceof EnvError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

async function authSecret(): Promise<string> {
  if (env.BETTER_AUTH_SECRET) return env.BETTER_AUTH_SECRET;
  const file = path.join(root, '.data/auth-secret');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(path.dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}

const started = Date.now();
if (!dev) await buildIfStale(childEnvironment({ NODE_ENV: 'production' }));

const children: ReturnType<typeof startService>[] = [];
let shuttingDown = false;
let database: OpenDatabase | undefined;

async function shutdown(code: number) {
  if (shuttingDown) return;
  shuttingDown = true;
  await Promise.all(children.map((c) => stopService(c)));
  await database?.stop();
  process.exit(code);
}
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));
process.once('SIGHUP', () => void shutdown(0));

try {
  database = await openDatabase(env);
} catch (error) {
  if (error instanceof DatabaseStartError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
console.log(`Database: ${database.description}`);
const applied = await applyMigrations(database.url);
if (applied.length) console.log(`Applied migrations: ${applied.join(', ')}`);

let backends = env.INFERENCE_BACKENDS;
const workerEntry = path.join(root, 'inference/src/index.ts');
if (env.START_WORKER && existsSync(workerEntry)) {
  const worker = startService(
    'worker',
    process.execPath,
    ['--import', 'tsx', workerEntry],
    childEnvironment({ WORKER_PORT: String(env.WORKER_PORT) }),
  );
  worker.once('exit', (code, signal) => {
    if (!shuttingDown)
      console.error(
        `[worker] exited (${code ?? signal}); suggestions fall back until it is restarted`,
      );
  });
  children.push(worker);
  if (backends.length === 0) backends = [`http://127.0.0.1:${env.WORKER_PORT}`];
}

// `next start`/`next dev` behind a thin server that records the socket's peer address (see there).
const app = startService(
  'app',
  process.execPath,
  [
    path.join(root, 'scripts/serve-next.mjs'),
    '--port',
    String(env.PORT),
    ...(dev ? ['--dev'] : []),
  ],
  childEnvironment({
    NODE_ENV: dev ? 'development' : 'production',
    DATABASE_URL: database.url,
    BETTER_AUTH_SECRET: await authSecret(),
    INFERENCE_BACKENDS: backends.join(','),
  }),
);
children.push(app);
app.once('exit', (code) => void shutdown(code ?? 1));

// Print the address once the server answers.
const url = env.APP_URL ?? `http://localhost:${env.PORT}`;
for (let i = 0; i < 600 && !shuttingDown; i++) {
  const ok = await fetch(`http://127.0.0.1:${env.PORT}/sign-in`).then(
    (r) => r.ok,
    () => false,
  );
  if (ok) {
    console.log(
      `\n  Flywheel is running at ${url}  (ready in ${((Date.now() - started) / 1000).toFixed(1)} s; Ctrl-C stops it)\n`,
    );
    break;
  }
  await new Promise((r) => setTimeout(r, 250));
}
