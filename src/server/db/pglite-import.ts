import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import pg from 'pg';
import { DatabaseStartError } from './embedded-postgres';
import { applyMigrations, migrationsDir as committedMigrations } from './migrations';

// Releases before the embedded PostgreSQL kept their data in a PGlite folder (`.data/pglite`).
// It is imported once into the new server, then renamed, never deleted and never imported twice.

/** The one query shape both clients share (PGlite's and node-postgres'). */
type Query = (sql: string, params?: unknown[]) => Promise<{ rows: unknown[] }>;
const on =
  (client: pg.Client | PGlite | Transaction): Query =>
  (sql, params) =>
    client instanceof pg.Client ? client.query(sql, params) : client.query(sql, params);

export interface PgliteImport {
  /** Where the PGlite folder is now. */
  renamedTo: string;
  /** Rows copied per table. */
  rows: Record<string, number>;
  /** The migrations the PGlite folder had (applied to the new server before the copy). */
  migrations: string[];
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
const BATCH = 1000;

async function userTables(query: Query): Promise<string[]> {
  const { rows } = await query(
    `SELECT tablename AS name FROM pg_tables
     WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY 1`,
  );
  return (rows as { name: string }[]).map((r) => r.name);
}

interface Column {
  name: string;
  type: string;
}

async function columns(query: Query, table: string): Promise<Column[]> {
  const { rows } = await query(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
     FROM pg_attribute a
     WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
     ORDER BY a.attnum`,
    [`public.${ident(table)}`],
  );
  return rows as Column[];
}

/** Tables of the target that hold at least one row. */
async function tablesWithRows(target: pg.Client): Promise<string[]> {
  const { rows } = await target.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
  );
  const full: string[] = [];
  for (const { name } of rows) {
    if (name === '_prisma_migrations') continue;
    const result = await target.query(`SELECT 1 FROM public.${ident(name)} LIMIT 1`);
    if (result.rowCount) full.push(name);
  }
  return full;
}

function timestamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
}

/**
 * Imports the PGlite folder `from` (written by an older release) into the empty PostgreSQL at
 * `url`, once:
 * 1. the target gets exactly the migrations the PGlite folder had (so both have the same tables;
 *    the caller then applies the newer ones, as on every start);
 * 2. every table is copied in one transaction (`session_replication_role = replica`, so foreign
 *    keys do not impose an order), each value through its text form, which is exact for every
 *    type; sequences are set to PGlite's values and row counts are checked before the commit;
 * 3. the folder is renamed to `<from>.imported-<timestamp>`.
 * Returns null when there is no such folder. Refuses (DatabaseStartError, nothing changed) when
 * the target already holds rows, or the folder has migrations this release does not know.
 */
export async function importPgliteFolder(options: {
  from: string;
  url: string;
  /** Names the target in messages (e.g. `the embedded PostgreSQL in .data/postgres`). */
  target: string;
  migrationsDir?: string;
  now?: Date;
}): Promise<PgliteImport | null> {
  const from = path.resolve(options.from);
  if (!existsSync(from)) return null;
  if (!existsSync(path.join(from, 'PG_VERSION'))) {
    if ((await readdir(from)).length === 0) return null;
    throw new DatabaseStartError(
      `${from} is not a PGlite data folder (no PG_VERSION), so it cannot be imported: move it away and start again.`,
    );
  }
  const target = new pg.Client({ connectionString: options.url });
  await target.connect();
  try {
    const full = await tablesWithRows(target);
    if (full.length)
      throw new DatabaseStartError(
        `Found PGlite data from an older release in ${from}, but ${options.target} already holds data ` +
          `(tables ${full.slice(0, 5).join(', ')}${full.length > 5 ? ', …' : ''}), so it was not imported.\n` +
          `  To import it instead: stop Flywheel, move the embedded database folder away, start again.\n` +
          `  To keep the current data: rename ${from} (e.g. to ${path.basename(from)}.not-imported) and start again.`,
      );

    const { PGlite } = await import('@electric-sql/pglite');
    const lite = await PGlite.create(from);
    let result: Omit<PgliteImport, 'renamedTo'>;
    try {
      result = await copy(
        lite,
        target,
        from,
        options.migrationsDir ?? committedMigrations,
        options.url,
      );
    } finally {
      await lite.close();
    }
    const renamedTo = `${from}.imported-${timestamp(options.now ?? new Date())}`;
    await rename(from, renamedTo);
    return { ...result, renamedTo };
  } finally {
    await target.end();
  }
}

async function appliedMigrations(lite: PGlite, from: string, dir: string): Promise<string[]> {
  const { rows: exists } = await lite.query<{ t: string | null }>(
    `SELECT to_regclass('public._prisma_migrations')::text AS t`,
  );
  if (!exists[0]?.t) {
    if ((await userTables(on(lite))).length)
      throw new DatabaseStartError(
        `${from} has tables but no migration history (_prisma_migrations), so it cannot be imported: move it away and start again.`,
      );
    return [];
  }
  const { rows } = await lite.query<{ name: string; finished: boolean; rolledBack: boolean }>(
    `SELECT migration_name AS name, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS "rolledBack"
     FROM _prisma_migrations ORDER BY started_at`,
  );
  const failed = rows.filter((r) => !r.finished && !r.rolledBack).map((r) => r.name);
  if (failed.length)
    throw new DatabaseStartError(
      `${from} has a failed migration (${failed.join(', ')}), so it was not imported: start the release that wrote it and fix that first.`,
    );
  const applied = [...new Set(rows.filter((r) => r.finished && !r.rolledBack).map((r) => r.name))];
  const known = new Set(await readdir(dir));
  const unknown = applied.filter((name) => !known.has(name));
  if (unknown.length)
    throw new DatabaseStartError(
      `${from} was written by a newer release (migrations ${unknown.join(', ')} are not in this one), so it was not imported: start that release instead.`,
    );
  return applied.sort();
}

async function copy(
  lite: PGlite,
  target: pg.Client,
  from: string,
  dir: string,
  url: string,
): Promise<Omit<PgliteImport, 'renamedTo'>> {
  const migrations = await appliedMigrations(lite, from, dir);

  // The target holds no rows (checked by the caller): give it exactly PGlite's schema.
  await target.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public');
  if (migrations.length) {
    const subset = await mkdtemp(path.join(os.tmpdir(), 'flywheel-import-'));
    try {
      if (existsSync(path.join(dir, 'migration_lock.toml')))
        await cp(path.join(dir, 'migration_lock.toml'), path.join(subset, 'migration_lock.toml'));
      for (const name of migrations)
        await cp(path.join(dir, name), path.join(subset, name), { recursive: true });
      await applyMigrations(url, subset);
    } finally {
      await rm(subset, { recursive: true, force: true });
    }
  }

  const tables = await userTables(on(lite));
  const targetTables = new Set(await userTables(on(target)));
  const missing = tables.filter((t) => !targetTables.has(t));
  if (missing.length)
    throw new DatabaseStartError(
      `${from} has tables that its migrations do not create (${missing.join(', ')}), so it was not imported: move it away and start again.`,
    );

  const rows: Record<string, number> = {};
  await target.query('BEGIN');
  try {
    await target.query('SET LOCAL session_replication_role = replica');
    await lite.transaction(async (tx) => {
      for (const table of tables) {
        const cols = await columns(on(target), table);
        const liteCols = (await columns(on(tx), table)).map((c) => c.name).sort();
        if (
          liteCols.join('\n') !==
          cols
            .map((c) => c.name)
            .sort()
            .join('\n')
        )
          throw new DatabaseStartError(
            `The columns of ${table} in ${from} differ from its migrations, so it was not imported: move it away and start again.`,
          );
        const insert =
          `INSERT INTO public.${ident(table)} (${cols.map((c) => ident(c.name)).join(', ')}) OVERRIDING SYSTEM VALUE ` +
          `SELECT ${cols.map((c, i) => `(r->>${i})::${c.type}`).join(', ')} FROM json_array_elements($1::json) AS r`;
        await tx.query(
          `DECLARE flywheel_import NO SCROLL CURSOR FOR SELECT array_to_json(ARRAY[${cols
            .map((c) => `${ident(c.name)}::text`)
            .join(', ')}])::text AS r FROM public.${ident(table)}`,
        );
        let copied = 0;
        for (;;) {
          const batch = await tx.query<{ r: string }>(`FETCH ${BATCH} FROM flywheel_import`);
          if (batch.rows.length === 0) break;
          const inserted = await target.query(insert, [
            `[${batch.rows.map((row) => row.r).join(',')}]`,
          ]);
          copied += inserted.rowCount ?? 0;
        }
        await tx.query('CLOSE flywheel_import');
        const [liteCount, targetCount] = await Promise.all([
          tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM public.${ident(table)}`),
          target.query<{ n: number }>(`SELECT count(*)::int AS n FROM public.${ident(table)}`),
        ]);
        if (liteCount.rows[0]?.n !== copied || targetCount.rows[0]?.n !== copied)
          throw new Error(
            `Import of ${table}: ${liteCount.rows[0]?.n} rows in PGlite, ${copied} copied`,
          );
        rows[table] = copied;
      }
      const sequences = await tx.query<{ name: string; value: string | null }>(
        `SELECT sequencename AS name, last_value::text AS value FROM pg_sequences WHERE schemaname = 'public'`,
      );
      for (const { name, value } of sequences.rows) {
        if (value === null) continue; // never used: the target's fresh sequence is the same
        await target.query('SELECT setval(to_regclass($1), $2::bigint, true)', [
          `public.${ident(name)}`,
          value,
        ]);
      }
    });
    await target.query('COMMIT');
  } catch (error) {
    await target.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return { rows, migrations };
}
