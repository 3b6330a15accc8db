import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/helpers/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Each file gets its own process: the tfjs engine and its backend are process-global.
    pool: 'forks',
    // vitest's default in run mode is one fork fewer than the cores: a single fork on CI's 2 cores,
    // so the files that train in one process (cli, faults, backward, live) ran with a core idle.
    maxWorkers: availableParallelism(),
    sequence: { sequencer: LongestFirstSequencer },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
