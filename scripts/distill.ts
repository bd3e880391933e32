// npm run distill -- --dataset <name[@version] | export folder> --teacher <served model>
//                    --student <name[/version] | folder> [options] [distill.py options]
//
// Distils a new version of the student from the teacher on a dataset version's prompts and
// registers it in the app with its lineage:
//   1. resolves the dataset version (through the app's API with --app-url, else the database:
//      DATABASE_URL or the embedded PostgreSQL, attached when npm start runs it) to its folder;
//   2. runs inference/training/distill.py (see its --help) in the Python environment the dataset
//      check uses (node_modules/.cache/flywheel-py-datasets, created from the local wheel mirror
//      when missing), writing <repository>/<name>/<version> and asking the worker to load it;
//   3. registers <name>/<version> (status registered, artifact digest, lineage) through the app:
//      POST /api/v1/models/versions with --api-key (or FLYWHEEL_API_KEY), else the registry
//      service on the database. --no-register skips it.
// Options: --name (default <student>-distilled), --version (default: the next free one, or the
// unfinished one with --resume), --repository (default MODEL_REPOSITORY or inference/models),
// --worker-url (default http://127.0.0.1:$WORKER_PORT), --teacher-url (default <worker>/v1),
// --json (last line: {"modelVersionId", "name", "version", "digest", "out", "lineage"}).
// The teacher's answers are kept in node_modules/.cache/flywheel-teacher-answers/<digest>.jsonl
// and replayed by a later run (give --teacher-answers FILE for another place).
// Everything else (--steps, --on-policy, --sft-weight, --sft-stop, --seed, --resume, …) goes to
// distill.py. Exit codes: 0 done, 2 bad arguments, 3 teacher down (rerun with --resume), 1 other.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { fetchRetrying } from './fetch-retrying';

const VENV = path.resolve('node_modules/.cache/flywheel-py-datasets');
/**
 * The teacher's answers, kept across runs by request hash in a file per teacher digest: a served
 * teacher is not bit-reproducible (prefix-cache reuse moves logprobs by ~1e-7), so a second run
 * on the same dataset replays the first run's answers and writes the same weights.
 */
const TEACHER_ANSWERS = path.resolve('node_modules/.cache/flywheel-teacher-answers');
const PYTHON = path.join(VENV, 'bin/python');
const PACKAGES = ['torch==2.13.0+cpu', 'datasets', 'trl', 'onnx'];
const DATASET_FILES = ['train.jsonl', 'eval.jsonl', 'manifest.json', 'README.md'];

const { values, tokens } = parseArgs({
  strict: false,
  tokens: true,
  options: {
    dataset: { type: 'string' },
    teacher: { type: 'string' },
    student: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'string' },
    repository: { type: 'string' },
    'worker-url': { type: 'string' },
    'teacher-url': { type: 'string' },
    'app-url': { type: 'string' },
    'api-key': { type: 'string' },
    'no-register': { type: 'boolean' },
    json: { type: 'boolean' },
    resume: { type: 'boolean' },
  },
});
const OWN = new Set([
  'dataset',
  'teacher',
  'student',
  'name',
  'version',
  'repository',
  'worker-url',
  'teacher-url',
  'app-url',
  'api-key',
  'no-register',
  'json',
]);
/** distill.py's own options, passed through as given. */
const passThrough: string[] = [];
for (const t of tokens) {
  if (t.kind === 'option' && !OWN.has(t.name))
    passThrough.push(t.rawName, ...(t.value ? [t.value] : []));
  if (t.kind === 'positional') passThrough.push(t.value);
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}
const dataset = str(values.dataset);
const teacher = str(values.teacher);
const studentArg = str(values.student);
if (!dataset || !teacher || !studentArg)
  fail(
    'Usage: npm run distill -- --dataset <name[@version] | folder> --teacher <model> --student <name[/version] | folder> [--name N] [--version V] [--app-url URL --api-key KEY] [--no-register] [--json] [distill.py options]',
  );
const repository = path.resolve(
  str(values.repository) ?? process.env.MODEL_REPOSITORY ?? 'inference/models',
);
const workerUrl = (
  str(values['worker-url']) ?? `http://127.0.0.1:${process.env.WORKER_PORT ?? '8001'}`
).replace(/\/$/, '');
const teacherUrl = str(values['teacher-url']) ?? `${workerUrl}/v1`;
const appUrl = str(values['app-url'])?.replace(/\/$/, '');
const apiKey = str(values['api-key']) ?? process.env.FLYWHEEL_API_KEY;
if (appUrl && !apiKey) fail('--app-url needs --api-key (or FLYWHEEL_API_KEY): an editor key');

const numericDirs = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((d) => /^\d+$/.test(d))
        .map(Number)
        .sort((a, b) => a - b)
    : [];

function resolveStudent(arg: string): string {
  if (existsSync(path.join(arg, 'model.onnx'))) return path.resolve(arg);
  const [name, version] = arg.split('/');
  const dir = path.join(repository, name ?? '');
  const v = version ?? String(numericDirs(dir).at(-1) ?? '');
  const folder = path.join(dir, v);
  if (!v || !existsSync(path.join(folder, 'model.onnx')))
    fail(`No student model at ${folder} (give a folder with model.onnx, or <name>[/<version>])`);
  return folder;
}

/** A new version: the next number, or with --resume the unfinished one (no flywheel.json yet). */
function outFolder(name: string): string {
  const dir = path.join(repository, name);
  const given = str(values.version);
  if (given) return path.join(dir, given);
  const last = numericDirs(dir).at(-1);
  if (last === undefined) return path.join(dir, '1');
  const unfinished = !existsSync(path.join(dir, String(last), 'flywheel.json'));
  return path.join(dir, String(unfinished && values.resume ? last : last + 1));
}

async function api(method: string, url: string, body?: unknown) {
  // Retried on a closed connection: the registration comes after minutes of training, when the
  // app may have closed the kept-alive socket (EPIPE); a registration with the same digest is
  // idempotent.
  const response = await fetchRetrying(
    `${appUrl}/api/v1${url}`,
    {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    },
    {
      onRetry: (why) => console.error(`${method} ${url}: connection failed (${why}); trying again`),
    },
  );
  if (!response.ok) fail(`${method} ${url}: HTTP ${response.status} ${await response.text()}`, 1);
  return response;
}

const refSchema = z.object({
  name: z.string(),
  version: z.coerce.number().int().min(1).optional(),
});
const versionsSchema = z.object({
  versions: z.array(z.object({ id: z.string(), version: z.number() })),
});

/** The export folder and the app's version id of `name[@version]` (latest when no version). */
async function resolveDataset(arg: string): Promise<{ dir: string; id: string | null }> {
  if (existsSync(path.join(arg, 'manifest.json'))) return { dir: path.resolve(arg), id: null };
  const [name, version] = arg.split('@');
  const ref = refSchema.parse({ name, version });
  if (appUrl) {
    const { versions } = versionsSchema.parse(
      await (await api('GET', `/datasets/${ref.name}`)).json(),
    );
    const v = ref.version ? versions.find((x) => x.version === ref.version) : versions[0];
    if (!v) fail(`Dataset ${arg} has no such version`);
    const dir = path.resolve('node_modules/.cache/flywheel-distill/datasets', v.id);
    mkdirSync(dir, { recursive: true });
    for (const file of DATASET_FILES) {
      const response = await api('GET', `/datasets/versions/${v.id}/files/${file}`);
      writeFileSync(path.join(dir, file), Buffer.from(await response.arrayBuffer()));
    }
    return { dir, id: v.id };
  }
  return withDb(async (db) => {
    const { versionFolder } = await import('../src/features/datasets/server/datasets-service');
    const found = await db.datasetVersion.findFirst({
      where: { dataset: { name: ref.name }, ...(ref.version ? { version: ref.version } : {}) },
      orderBy: { version: 'desc' },
    });
    if (!found) fail(`No dataset version ${arg} (build one with npm run dataset:build)`);
    const { dir } = await versionFolder(db, found.id);
    return { dir: path.resolve(dir), id: found.id };
  });
}

type AppDb = import('../src/server/db').Db;
async function withDb<T>(work: (db: AppDb) => Promise<T>): Promise<T> {
  const { PrismaPg } = await import('@prisma/adapter-pg');
  const { PrismaClient } = await import('../src/generated/prisma/client');
  const { openDatabase } = await import('../src/server/db/open-database');
  const { loadServerEnv } = await import('../src/server/env');
  const { applyMigrations } = await import('../src/server/db/migrations');
  const database = await openDatabase(loadServerEnv(), { ifRunning: 'attach', log: () => {} });
  const db = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });
  try {
    await applyMigrations(database.url);
    return await work(db);
  } finally {
    await db.$disconnect();
    await database.stop();
  }
}

function ensurePython() {
  if (spawnSync(PYTHON, ['-c', 'import torch, onnx, tokenizers']).status === 0) return;
  console.error(`Creating ${path.relative(process.cwd(), VENV)} from the local wheel mirror…`);
  execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  execFileSync(
    path.join(VENV, 'bin/pip'),
    ['install', '-q', '--index-url', 'file:///opt/pypi/simple', ...PACKAGES],
    { stdio: 'inherit' },
  );
}

const student = resolveStudent(studentArg);
const name = str(values.name) ?? `${path.basename(path.dirname(student))}-distilled`;
const out = outFolder(name);
const data = await resolveDataset(dataset);
ensurePython();
const python = spawnSync(
  PYTHON,
  [
    'inference/training/distill.py',
    ...['--dataset', data.dir, ...(data.id ? ['--dataset-id', data.id] : [])],
    ...['--teacher', teacher, '--teacher-url', teacherUrl, '--student', student, '--out', out],
    ...['--worker-url', workerUrl, ...passThrough],
    ...(passThrough.some((a) => a.startsWith('--teacher-answers'))
      ? []
      : ['--teacher-answers-dir', TEACHER_ANSWERS]),
  ],
  { stdio: 'inherit' },
);
if (python.status !== 0) process.exit(python.status ?? 1);

const written = z
  .object({ name: z.string(), version: z.string(), digest: z.string(), lineage: z.unknown() })
  .parse(JSON.parse(readFileSync(path.join(out, 'flywheel.json'), 'utf8')));
const registration = {
  name: written.name,
  version: written.version,
  artifactDigest: written.digest,
  lineage: written.lineage,
};
let modelVersionId: string | null = null;
if (!values['no-register']) {
  if (appUrl) {
    const response = await api('POST', '/models/versions', registration);
    modelVersionId = z.object({ id: z.string() }).parse(await response.json()).id;
  } else {
    modelVersionId = await withDb(async (db) => {
      const { registerModelVersion } =
        await import('../src/features/models/server/model-registry-service');
      const { toPublicError } = await import('../src/server/errors');
      try {
        return (await registerModelVersion(db, { type: 'system', userId: null }, registration)).id;
      } catch (error) {
        const e = toPublicError(error);
        if (e.status >= 500) console.error(error);
        return fail(`Registering ${written.name}/${written.version}: ${e.message}`, 1);
      }
    });
  }
  console.log(
    `registered ${written.name}/${written.version} (${modelVersionId}) ${written.digest}`,
  );
}
if (values.json)
  console.log(
    JSON.stringify({
      modelVersionId,
      name: written.name,
      version: written.version,
      digest: written.digest,
      out,
      lineage: written.lineage,
    }),
  );
