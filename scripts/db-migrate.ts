// npm run db:migrate            apply committed migrations to DATABASE_URL (or the embedded PGlite)
// npm run db:migration:create -- <name>   write a new migration from prisma/schema.prisma
import { applyMigrations, createMigration } from '../src/server/db/migrations';
import { openDatabase } from '../src/server/db/open-database';
import { loadServerEnv } from '../src/server/env';

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
  const env = loadServerEnv();
  const db = await openDatabase(env);
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
