import type { TestProject } from 'vitest/node';
import { applyMigrations } from '../server/db/migrations';
import { startPglite, type RunningDatabase } from '../server/db/pglite-server';
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

/**
 * Integration tests run against both databases the product supports: the embedded PGlite and a
 * real PostgreSQL 15 server started here from the Debian binaries. Neither is optional: a
 * missing server fails the run rather than skipping tests.
 */
export default async function setup(project: TestProject) {
  const started: { name: string; db: RunningDatabase }[] = [];
  try {
    started.push({ name: 'pglite', db: await startPglite() });
    started.push({ name: 'postgresql-15', db: await startPostgresCluster() });
  } catch (error) {
    await Promise.all(started.map((s) => s.db.stop()));
    throw new Error(
      `Could not start the test databases (PostgreSQL 15 binaries are expected in /usr/lib/postgresql/15/bin; ` +
        `install with: apt-get install -y postgresql-15): ${(error as Error).message}`,
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
