import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runToEnd } from './processes';

const root = path.resolve(import.meta.dirname, '..');
const stampFile = path.join(root, '.next/flywheel-build-stamp');
const inputs = [
  'src',
  'prisma/schema.prisma',
  'next.config.js',
  'postcss.config.js',
  'package-lock.json',
  'tsconfig.json',
];

// A digest of everything the production build depends on (paths, sizes and mtimes: cheap, and
// any edit or checkout changes one of them).
function sourceStamp(): string {
  const hash = createHash('sha256');
  const visit = (p: string) => {
    const full = path.join(root, p);
    if (!existsSync(full)) return;
    const stat = statSync(full);
    if (stat.isDirectory()) {
      if (p === 'src/generated') return;
      for (const name of readdirSync(full).sort()) visit(path.join(p, name));
    } else {
      hash.update(`${p}\0${stat.size}\0${stat.mtimeMs}\n`);
    }
  };
  inputs.forEach(visit);
  return hash.digest('hex');
}

/** Builds the app with `next build` unless the last build was made from the same sources. */
export async function buildIfStale(env: NodeJS.ProcessEnv): Promise<void> {
  const stamp = sourceStamp();
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
  console.log('Building the app (first start or sources changed)…');
  const started = Date.now();
  await runToEnd(
    process.execPath,
    [path.join(root, 'node_modules/prisma/build/index.js'), 'generate'],
    {
      ...env,
      // generate needs no schema engine; pointing at any file skips the CLI's download of one.
      PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
    },
  );
  await runToEnd(
    process.execPath,
    [path.join(root, 'node_modules/next/dist/bin/next'), 'build'],
    env,
  );
  writeFileSync(stampFile, stamp);
  console.log(`Built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
