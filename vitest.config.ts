import { defineConfig } from 'vitest/config';

// Tests talk to the real PostgreSQL and Redis. Each file gets its own database (cloned from a
// migrated template made once in global setup) and its own Redis key prefix, so files run in parallel.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
