// npm test: lint, typecheck, unit and integration tests (on the embedded PostgreSQL 18 and on
// PostgreSQL 15), the worker's tests, the demo-model training script on a tiny configuration, and
// the browser tests.
// Every step runs even when an earlier one fails; the last line is `N passed, N failed, N skipped`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const bin = (name: string) => path.join(root, 'node_modules/.bin', name);
const results = { passed: 0, failed: 0, skipped: 0 };
const failures: string[] = [];

function step(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
): boolean {
  console.log(`\n━━ ${name} ━━  ${[path.basename(command), ...args].join(' ')}`);
  const started = Date.now();
  const { status } = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  console.log(
    `━━ ${name}: ${status === 0 ? 'ok' : `FAILED (exit ${status})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  if (status !== 0) failures.push(name);
  return status === 0;
}

/** A check that is not a test runner counts as one test. */
function check(name: string, command: string, args: string[], env?: Record<string, string>) {
  if (step(name, command, args, env)) results.passed++;
  else results.failed++;
}

/** Adds a runner's counts; a runner that failed without a failing test (a crash, a broken file) counts one failure. */
function countJson(
  ok: boolean,
  file: string,
  read: (report: Record<string, number>) => typeof results,
) {
  const counts = existsSync(file)
    ? read(JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>)
    : { passed: 0, failed: 0, skipped: 0 };
  results.passed += counts.passed;
  results.failed += counts.failed || (ok ? 0 : 1);
  results.skipped += counts.skipped;
}

/** The system packages the tests use: installed with apt-get when missing (the setup runs as root). */
function ensureSystemPackages() {
  const wanted = [
    { file: '/usr/lib/postgresql/15/bin/initdb', pkg: 'postgresql-15' },
    { file: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', pkg: 'chromium' },
    {
      file: '/usr/lib/python3/dist-packages/torch/__init__.py',
      pkg: 'python3-torch python3-onnx python3-numpy',
    },
  ].filter((w) => !existsSync(w.file));
  if (wanted.length === 0) return;
  const pkgs = wanted.flatMap((w) => w.pkg.split(' '));
  if (process.getuid?.() !== 0) {
    console.error(
      `Missing system packages; install them with: sudo apt-get install -y --no-install-recommends ${pkgs.join(' ')}`,
    );
    return;
  }
  console.log(`Installing ${pkgs.join(', ')} with apt-get…`);
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

const started = Date.now();
ensureSystemPackages();
mkdirSync(path.join(root, 'test-results'), { recursive: true });

check('format', bin('prettier'), ['--check', '--log-level', 'warn', '.']);
check('lint', bin('eslint'), ['--max-warnings', '0', '.']);
check('typecheck', bin('tsc'), ['--noEmit', '-p', '.']);

const vitestReport = path.join(root, 'test-results/vitest.json');
rmSync(vitestReport, { force: true });
const vitestOk = step('unit and integration tests', bin('vitest'), [
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${vitestReport}`,
]);
countJson(vitestOk, vitestReport, (r) => ({
  passed: r.numPassedTests ?? 0,
  failed: r.numFailedTests ?? 0,
  skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0),
}));

const trainingScript = path.join(root, 'inference/training/build_demo_models.py');
if (existsSync(trainingScript)) {
  check('demo-model training (tiny configuration)', '/usr/bin/python3', [
    trainingScript,
    '--tiny',
    '--out',
    path.join(os.tmpdir(), `flywheel-train-${process.pid}`),
  ]);
}

const e2eReport = path.join(root, 'test-results/e2e.json');
rmSync(e2eReport, { force: true });
const e2eOk = step('browser tests', bin('playwright'), ['test']);
countJson(e2eOk, e2eReport, (r) => {
  const stats = (r as unknown as { stats: Record<string, number> }).stats;
  return {
    passed: (stats.expected ?? 0) + (stats.flaky ?? 0),
    failed: stats.unexpected ?? 0,
    skipped: stats.skipped ?? 0,
  };
});

console.log(
  `\nnpm test finished in ${((Date.now() - started) / 1000).toFixed(0)} s${failures.length ? `; failed: ${failures.join(', ')}` : ''}`,
);
console.log(`${results.passed} passed, ${results.failed} failed, ${results.skipped} skipped`);
process.exit(results.failed > 0 || failures.length > 0 ? 1 : 0);
