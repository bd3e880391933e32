// npm run db:migrate            apply committed migrations to DATABASE_URL, or to the embedded
//                               PostgreSQL: the running one (npm start), else started for the run
// npm run db:migration:create -- <name>   write a new migration from prisma/schema.prisma
import { DatabaseStartError } from '../src/server/db/embedded-postgres';
import { applyMigrations, createMigration } from '../src/server/db/migrations';
import { openDatabase } from '../src/server/db/open-database';
import { EnvError, loadServerEnv } from '../src/server/env';

const [command, name] = process.argv.slice(2);

if (command === 'create') {
  if (!name || !/^[a-z0-9_]+$/.test(name)) {
    console.error('Usage: npm run db:migration:create -- <name>  (lowercase letters, digits, _)');
    process.exit(2);
  }
  const created = await createMigration(name, loadServerEnv().SHADOW_DATABASE_URL);
  console.log(
    created
      ? `Created prisma/migrations/${created}/migration.sql`
      : 'No schema changes: nothing to create.',
  );
} else if (command === 'deploy') {
  let db;
  try {
    db = await openDatabase(loadServerEnv(), { ifRunning: 'attach' });
  } catch (error) {
    if (!(error instanceof DatabaseStartError || error instanceof EnvError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  console.log(`Database: ${db.description}`);
  try {
    const applied = await applyMigrations(db.url);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
  } finally {
    await db.stop();
  }
} else {
  console.error('Usage: db-migrate.ts deploy | create <name>');
  process.exit(2);
}
