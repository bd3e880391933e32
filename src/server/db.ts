import 'server-only';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '~/generated/prisma/client';
import { env } from './env';

export type Db = PrismaClient;

export function createDb(connectionString: string): Db {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, max: 10 }) });
}

const globalForDb = globalThis as unknown as { flywheelDb?: Db };

/** The app's database client (one per process; survives dev hot reloads). */
export function db(): Db {
  const url = env().DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: start the app with `npm start`');
  globalForDb.flywheelDb ??= createDb(url);
  return globalForDb.flywheelDb;
}
