import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb } from '../db';
import { applyMigrations, migrationsDir } from './migrations';
import { startTestEmbeddedPostgres } from '../../test/global-setup';
import type { RunningDatabase } from './embedded-postgres';
import { startPostgresCluster } from './postgres-cluster';

const fresh: Record<string, () => Promise<RunningDatabase>> = {
  'embedded-postgres-18': () => startTestEmbeddedPostgres(),
  'postgresql-15': () => startPostgresCluster(),
};

describe.each(Object.keys(fresh))('migrations [%s]', (name) => {
  const open: RunningDatabase[] = [];
  const folders: string[] = [];
  const scratch = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'flywheel-migrations-'));
    folders.push(dir);
    return dir;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.stop()));
    await Promise.all(folders.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('migrates a database written by an older schema without losing its rows', async () => {
    const database = await fresh[name]!();
    open.push(database);
    const dir = await scratch();
    await cp(migrationsDir, dir, { recursive: true });

    const committed = await applyMigrations(database.url, dir);
    expect(committed).toContain('20261124155408_init');
    const db = createDb(database.url);
    await db.user.create({
      data: { id: 'u1', name: 'Ada', email: 'ada@example.com', role: 'editor' },
    });

    // A later release adds a migration: it is applied on top, nothing is wiped.
    await mkdir(path.join(dir, '29990101000000_add_nickname'));
    await writeFile(
      path.join(dir, '29990101000000_add_nickname/migration.sql'),
      'ALTER TABLE "user" ADD COLUMN "nickname" TEXT;',
    );
    expect(await applyMigrations(database.url, dir)).toEqual(['29990101000000_add_nickname']);
    expect(await applyMigrations(database.url, dir)).toEqual([]);

    const rows = await db.$queryRawUnsafe<{ email: string; nickname: string | null }[]>(
      'SELECT email, nickname FROM "user"',
    );
    expect(rows).toEqual([{ email: 'ada@example.com', nickname: null }]);
    const history = await db.$queryRawUnsafe<{ n: bigint }[]>(
      'SELECT count(*) AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL',
    );
    expect(Number(history[0]?.n)).toBe(committed.length + 1);
    await db.$disconnect();
  });

  it('applies scripts whose statements contain semicolons (function bodies, literals)', async () => {
    const database = await fresh[name]!();
    open.push(database);
    const dir = await scratch();
    await mkdir(path.join(dir, '20000101000000_trigger'));
    await writeFile(
      path.join(dir, '20000101000000_trigger/migration.sql'),
      `CREATE TABLE "item" ("id" INTEGER PRIMARY KEY, "note" TEXT NOT NULL DEFAULT 'a; b');
CREATE TABLE "item_log" ("id" INTEGER NOT NULL);
-- a comment; with a semicolon
CREATE FUNCTION "log_item"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "item_log" ("id") VALUES (NEW."id");
  RETURN NEW;
END;
$$;
CREATE TRIGGER "item_logged" AFTER INSERT ON "item" FOR EACH ROW EXECUTE FUNCTION "log_item"();
`,
    );
    expect(await applyMigrations(database.url, dir)).toEqual(['20000101000000_trigger']);
    const db = createDb(database.url);
    await db.$executeRawUnsafe('INSERT INTO "item" ("id") VALUES (7)');
    expect(
      await db.$queryRawUnsafe('SELECT i.note, l.id FROM "item" i JOIN "item_log" l USING ("id")'),
    ).toEqual([{ note: 'a; b', id: 7 }]);
    await db.$disconnect();
  });
});
