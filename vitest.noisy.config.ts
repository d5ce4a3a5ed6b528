import { defineConfig } from 'vitest/config';

// `npm run test:noisy`: only the noisy-neighbour suite, with the global setup of `npm test`.
export default defineConfig({
  test: {
    include: ['test/noisy-neighbour/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
