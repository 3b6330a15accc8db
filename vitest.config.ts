import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Each file gets its own process: the tfjs engine and its backend are process-global.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
