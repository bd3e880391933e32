/**
 * Plain SQL on the connections Prisma uses, for the few hot statements (feedback ingest,
 * generation batches) where Prisma's raw-query layer costs measurable throughput. The pool is
 * kept on the client itself: Next.js may load a module once per bundle, so a module-level map
 * would not find a client made by another bundle's copy.
 */
import type pg from 'pg';
import type { PrismaClient } from '~/generated/prisma/client';

const POOL = Symbol.for('flywheel.pg-pool');
type WithPool = PrismaClient & { [POOL]?: pg.Pool };

/** Records the pool a client's adapter runs on (done by createDb). */
export function attachPool<T extends PrismaClient>(client: T, pool: pg.Pool): T {
  (client as WithPool)[POOL] = pool;
  return client;
}

/** Runs one statement through the client's pool, or through Prisma when it has none. */
export async function querySql<Row>(
  db: PrismaClient,
  sql: string,
  params: unknown[],
): Promise<Row[]> {
  const pool = (db as WithPool)[POOL];
  if (!pool) return db.$queryRawUnsafe<Row[]>(sql, ...params);
  return (await pool.query(sql, params)).rows as Row[];
}
