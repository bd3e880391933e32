import { afterAll, beforeAll, describe, inject } from 'vitest';
import { createDb, type Db } from '~/server/db';
import { randomUUID } from 'node:crypto';

/**
 * Runs a suite once per test database (the embedded PostgreSQL 18 and PostgreSQL 15, both started
 * by global-setup.ts). Suites share each database, so tests make their own rows with unique ids
 * rather than expecting empty tables.
 */
export function describeOnEachDatabase(
  title: string,
  suite: (ctx: { db: () => Db; url: () => string }) => void,
) {
  describe.each(inject('databases'))(`${title} [$name]`, (database) => {
    let db: Db | undefined;
    beforeAll(() => {
      db = createDb(database.url);
    });
    afterAll(async () => {
      await db?.$disconnect();
    });
    suite({
      db: () => {
        if (!db) throw new Error('database not ready');
        return db;
      },
      url: () => database.url,
    });
  });
}

/** A user row with the given role, made directly (no password). */
export async function makeUser(db: Db, role: 'viewer' | 'editor' | 'admin') {
  const id = randomUUID();
  return db.user.create({
    data: { id, name: `${role} ${id.slice(0, 6)}`, email: `${role}-${id}@test.local`, role },
  });
}
