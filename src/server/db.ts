import 'server-only';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '~/generated/prisma/client';
import { env } from './env';
import { attachPool } from './sql';

export type Db = PrismaClient;

export function createDb(connectionString: string): Db {
  const pool = new pg.Pool({ connectionString, max: 10 });
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  return attachPool(new PrismaClient({ adapter }), pool);
}

const globalForDb = globalThis as unknown as { flywheelDb?: Db };

/** The app's database client (one per process; survives dev hot reloads). */
export function db(): Db {
  const url = env().DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: start the app with `npm start`');
  globalForDb.flywheelDb ??= createDb(url);
  return globalForDb.flywheelDb;
}
