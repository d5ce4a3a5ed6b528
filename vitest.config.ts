import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/support/longest-first-sequencer.ts';

// Tests talk to the real PostgreSQL and Redis. Each file gets its own database (cloned from a
// migrated template made once in global setup) and its own Redis key prefix, so files run in parallel.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The noisy-neighbour suite runs on its own (`npm run test:noisy`, a step of its own in CI):
    // it measures latencies, so it must not share the machine with other files
    // (docs/testing.md › Noisy-neighbour suite).
    exclude: ['test/noisy-neighbour/**', '**/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Two files at a time on the 2-core CI machine: most of a file's time is spent waiting on its
    // processes, PostgreSQL and Redis, so the suite takes about 8 minutes instead of 14.
    maxWorkers: 2,
    // The slowest files start first, so that none of them starts last and runs on alone.
    sequence: { sequencer: LongestFirstSequencer },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
