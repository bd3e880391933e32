import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'inference',
    include: ['inference/**/*.test.ts'],
    // The repository root, whatever directory vitest was started from.
    root: fileURLToPath(new URL('..', import.meta.url)),
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
