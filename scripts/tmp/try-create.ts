import { createMigration } from '../../src/server/db/migrations';
console.log(await createMigration('init'));
