import { defineConfig } from 'prisma/config';

// Only `prisma generate` uses the Prisma CLI here; migrations run through
// scripts/db-migrate.ts (the schema engine compiled to WebAssembly), see README.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
