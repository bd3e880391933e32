import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb } from '../db';
import { applyMigrations, migrationsDir } from './migrations';
import { startPglite, type RunningDatabase } from './pglite-server';
import { startPostgresCluster } from './postgres-cluster';

const fresh: Record<string, () => Promise<RunningDatabase>> = {
  pglite: () => startPglite(),
  'postgresql-15': () => startPostgresCluster(),
};

describe.each(Object.keys(fresh))('migrations [%s]', (name) => {
  const open: RunningDatabase[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.stop()));
  });

  it('migrates a database written by an older schema without losing its rows', async () => {
    const database = await fresh[name]!();
    open.push(database);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'flywheel-migrations-'));
    await cp(migrationsDir, dir, { recursive: true });

    expect(await applyMigrations(database.url, dir)).toContain('20261124155408_init');
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
    expect(Number(history[0]?.n)).toBe(2);
    await db.$disconnect();
  });
});

describe('embedded PGlite data folder', () => {
  it('keeps its data across restarts', async () => {
    const dataDir = path.join(await mkdtemp(path.join(os.tmpdir(), 'flywheel-pglite-')), 'data');
    let database = await startPglite({ dataDir });
    await applyMigrations(database.url);
    let db = createDb(database.url);
    await db.feature.create({ data: { id: 'f', task: 'completion', config: {}, configHash: 'h' } });
    await db.$disconnect();
    await database.stop();

    database = await startPglite({ dataDir });
    expect(await applyMigrations(database.url)).toEqual([]);
    db = createDb(database.url);
    expect(await db.feature.count()).toBe(1);
    await db.$disconnect();
    await database.stop();
  });
});
