import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DatabaseStartError,
  startEmbeddedPostgres,
  type RunningDatabase,
} from './embedded-postgres';
import { applyMigrations, migrationsDir } from './migrations';
import { openDatabase } from './open-database';
import { importPgliteFolder } from './pglite-import';

const INIT = '20261124155408_init';
const folders: string[] = [];
const running: RunningDatabase[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((db) => db.stop()));
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function scratch(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flywheel-import-test-'));
  await chmod(dir, 0o711); // as root the server runs as `postgres`, which must enter it
  folders.push(dir);
  return dir;
}

/** The init migration and a later one that this test's "newer release" adds. */
async function migrationsOfNewerRelease(root: string): Promise<string> {
  const dir = path.join(root, 'migrations');
  await mkdir(dir);
  await cp(path.join(migrationsDir, INIT), path.join(dir, INIT), { recursive: true });
  await cp(path.join(migrationsDir, 'migration_lock.toml'), path.join(dir, 'migration_lock.toml'));
  await mkdir(path.join(dir, '29990101000000_add_nickname'));
  await writeFile(
    path.join(dir, '29990101000000_add_nickname/migration.sql'),
    'ALTER TABLE "user" ADD COLUMN "nickname" TEXT;',
  );
  return dir;
}

/**
 * A PGlite folder as an older release left it: the init migration applied and recorded in
 * `_prisma_migrations` as Prisma records it, and rows whose values test the copy's fidelity.
 */
async function olderReleaseFolder(dir: string): Promise<void> {
  const lite = await PGlite.create(dir);
  await lite.exec(`CREATE TABLE "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
  const sql = await readFile(path.join(migrationsDir, INIT, 'migration.sql'), 'utf8');
  await lite.exec(sql);
  await lite.query(
    `INSERT INTO _prisma_migrations (id, checksum, migration_name, finished_at, applied_steps_count)
     VALUES ($1, $2, $3, now(), 1)`,
    [randomUUID(), createHash('sha256').update(sql).digest('hex'), INIT],
  );
  await lite.exec(`
    INSERT INTO "user" (id, name, email, role, "createdAt", "updatedAt") VALUES
      ('u1', 'Ada', 'ada@example.com', 'admin', '2026-01-02 03:04:05.678', '2026-01-02 03:04:05.678'),
      ('u2', 'Zoë "Z" O''Brien', 'zoe@example.com', 'viewer', now(), now());
    INSERT INTO model_version (id, name, version, "backendModel", status, "updatedAt") VALUES
      ('mv1', 'teacher', '1', 'teacher', 'active', now());
    -- feature points at a model version that sorts after it: copied with foreign keys off
    INSERT INTO feature (id, task, config, "configHash", "defaultModelVersionId", "updatedAt") VALUES
      ('f1', 'completion', '{"maxTokens": 16, "stop": ["\\n"], "nested": {"a": null, "s": "é\\"\\\\"}}', 'h1', 'mv1', now());
    INSERT INTO audit_log (id, "actorId", "actorType", action, "entityType", "entityId", before, after) VALUES
      ('a1', 'u1', 'user', 'feature.update', 'feature', 'f1', 'null'::jsonb, NULL);
    INSERT INTO generation (id, "featureId", "unitId", tier, seed, prompt, output, "ttftMs", "latencyMs") VALUES
      ('g1', 'f1', 'unit-1', 'primary', 9007199254740993, E'line one\\nline two\\ttab', '', 0.1, 12.345678901234);
    INSERT INTO outbox (sink, kind, "aggregateId", payload) VALUES
      ('posthog', 'generation', 'g1', '[1, "two", {"three": 3}]'),
      ('otel', 'generation', 'g1', '{}'),
      ('posthog', 'feedback', 'e1', '"a string"');
    DELETE FROM outbox WHERE kind = 'feedback';
  `);
  await lite.close();
}

async function rows<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('import of a PGlite folder from an older release', () => {
  it('copies every row exactly, brings the schema up to date, and renames the folder', async () => {
    const root = await scratch();
    const from = path.join(root, 'pglite');
    await olderReleaseFolder(from);
    const migrations = await migrationsOfNewerRelease(root);
    const database = await startEmbeddedPostgres({
      dir: path.join(root, 'postgres'),
      log: () => {},
    });
    running.push(database);

    const now = new Date('2026-12-04T10:20:30.456Z');
    const imported = await importPgliteFolder({
      from,
      url: database.url,
      target: 'the test server',
      migrationsDir: migrations,
      now,
    });
    expect(imported).toMatchObject({
      renamedTo: `${from}.imported-20261204T102030Z`,
      migrations: [INIT],
      rows: { user: 2, feature: 1, model_version: 1, audit_log: 1, generation: 1, outbox: 2 },
    });
    expect(existsSync(from)).toBe(false);
    expect(existsSync(path.join(`${from}.imported-20261204T102030Z`, 'PG_VERSION'))).toBe(true);
    // The newer release's migration runs after the import, as on every start.
    expect(await applyMigrations(database.url, migrations)).toEqual([
      '29990101000000_add_nickname',
    ]);

    expect(
      await rows(
        database.url,
        `SELECT id, name, role::text, "createdAt"::text, nickname FROM "user" ORDER BY id`,
      ),
    ).toEqual([
      {
        id: 'u1',
        name: 'Ada',
        role: 'admin',
        createdAt: '2026-01-02 03:04:05.678',
        nickname: null,
      },
      expect.objectContaining({ id: 'u2', name: 'Zoë "Z" O\'Brien', role: 'viewer' }),
    ]);
    expect(await rows(database.url, `SELECT config::text FROM feature`)).toEqual([
      { config: '{"stop": ["\\n"], "nested": {"a": null, "s": "é\\"\\\\"}, "maxTokens": 16}' },
    ]);
    expect(
      await rows(
        database.url,
        `SELECT before IS NULL AS "sqlNull", before::text, after IS NULL AS "afterNull" FROM audit_log`,
      ),
    ).toEqual([{ sqlNull: false, before: 'null', afterNull: true }]);
    expect(
      await rows(database.url, `SELECT seed::text, prompt, "ttftMs", "latencyMs" FROM generation`),
    ).toEqual([
      {
        seed: '9007199254740993',
        prompt: 'line one\nline two\ttab',
        ttftMs: 0.1,
        latencyMs: 12.345678901234,
      },
    ]);
    // Sequences continue after PGlite's last value (3, although row 3 was deleted).
    const [next] = await rows<{ id: string }>(
      database.url,
      `INSERT INTO outbox (sink, kind, "aggregateId", payload) VALUES ('otel', 'x', 'y', '{}') RETURNING id::text`,
    );
    expect(next?.id).toBe('4');
    // Foreign keys hold after the copy.
    const [fk] = await rows<{ n: number }>(
      database.url,
      `SELECT count(*)::int AS n FROM feature f JOIN model_version m ON m.id = f."defaultModelVersionId"`,
    );
    expect(fk?.n).toBe(1);
  });

  it('on start: imports once into an empty embedded server, and refuses when it holds data', async () => {
    const root = await scratch();
    const from = path.join(root, 'pglite');
    await olderReleaseFolder(from);
    const env = {
      EMBEDDED_DATABASE_DIR: path.join(root, 'postgres'),
      PGLITE_DATA_DIR: from,
      DATABASE_URL: undefined,
      EMBEDDED_DATABASE_PORT: undefined,
    };
    const lines: string[] = [];
    const database = await openDatabase(env, { log: (l) => lines.push(l) });
    running.push(database);
    expect(lines.join('\n')).toMatch(/Imported the PGlite data of an older release \(8 rows in/);
    expect(await applyMigrations(database.url)).not.toContain(INIT);
    expect(await rows(database.url, 'SELECT email FROM "user" ORDER BY email')).toEqual([
      { email: 'ada@example.com' },
      { email: 'zoe@example.com' },
    ]);
    const renamed = (await readdir(root)).filter((name) => name.startsWith('pglite.imported-'));
    expect(renamed).toHaveLength(1);
    await running.pop()!.stop();

    // Restart: the renamed folder is never imported again.
    const again = await openDatabase(env, { log: (l) => lines.push(l) });
    expect(lines.filter((l) => l.startsWith('Imported'))).toHaveLength(1);
    await again.stop();

    // Another PGlite folder appears while the server holds data: start-up stops, nothing changes.
    await olderReleaseFolder(from);
    const error = await openDatabase(env, { log: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseStartError);
    expect((error as Error).message).toMatch(
      /already holds data \(tables [^)]*\), so it was not imported/,
    );
    expect(existsSync(path.join(from, 'PG_VERSION'))).toBe(true);
  });
});
