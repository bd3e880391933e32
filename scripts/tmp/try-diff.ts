import { readFile } from 'node:fs/promises';
import { openSchemaEngine } from '../../src/server/db/schema-engine';
import { startPglite } from '../../src/server/db/pglite-server';
const dm = await readFile('prisma/schema.prisma', 'utf8');
const a = await startPglite();
const b = await startPglite();
const engine = await openSchemaEngine(dm, a.url, b.url);
const list = {
  baseDir: '/tmp/none',
  lockfile: { path: 'migration_lock.toml', content: 'provider = "postgresql"\n' },
  shadowDbInitScript: '',
  migrationDirectories: [],
};
for (const from of [
  { tag: 'empty' },
  { tag: 'migrations', ...list },
  { tag: 'schemaDatasource', files: [{ path: 'schema.prisma', content: dm }], configDir: '.' },
]) {
  try {
    const r = await engine.diff({
      from: from as never,
      to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: dm }] },
      script: true,
      shadowDatabaseUrl: null,
      exitCode: null,
      filters: { externalTables: [], externalEnums: [] },
    } as never);
    console.log(from.tag, 'OK', r.stdout?.length);
  } catch (e) {
    console.log(from.tag, 'ERR', (e as Error).message.split('\n')[0]);
  }
}
await a.stop();
await b.stop();
