/**
 * A JobRunner on the test environment's PostgreSQL and Redis, with the given kernels, usage
 * dropped: the tests that drive the runner directly (no fetcher) build it the same way.
 */
import type { TestEnvironment } from '../support/context.ts';
import { JobRunner, type KernelRunner } from '../../worker/job-runner.ts';

export function testJobRunner(env: TestEnvironment, kernels: KernelRunner, overrides: Record<string, string> = {}, writeBatchMax?: number): JobRunner {
  const runtime = env.runtime(overrides);
  return new JobRunner({
    db: runtime.db,
    connection: runtime.redis,
    prefix: env.redisPrefix,
    workerId: 'test-worker',
    kernels,
    logger: runtime.logger,
    usage: { add: () => undefined },
    ...(writeBatchMax === undefined ? {} : { writeBatchMax }),
  });
}
