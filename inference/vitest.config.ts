import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'inference',
    include: ['inference/**/*.test.ts'],
    root: '..',
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
