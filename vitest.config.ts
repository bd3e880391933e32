import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

// Two projects: the app (needs the test databases that global-setup starts) and the
// inference worker (a process of its own, shares nothing with src/).
export default defineConfig({
  test: {
    projects: [
      {
        resolve: {
          alias: {
            '~': fileURLToPath(new URL('./src', import.meta.url)),
            // Next.js resolves the real marker; under Vitest server modules are imported directly.
            'server-only': fileURLToPath(new URL('./src/test/server-only.ts', import.meta.url)),
          },
        },
        test: {
          name: 'app',
          include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['./src/test/global-setup.ts'],
          // Most suites call the end-user endpoints anonymously; access.test.ts checks the default.
          env: { ALLOW_ANONYMOUS_WRITE: '1' },
          testTimeout: 60_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      'inference/vitest.config.ts',
    ],
  },
});
