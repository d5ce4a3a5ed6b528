/**
 * A JobRunner on the test environment's PostgreSQL and Redis, with the given kernels, usage
 * dropped: the tests that drive the runner directly (no fetcher) build it the same way.
 */
import type { Job } from 'bullmq';
import type { PipelineJobData } from '../../shared/queues/tenant-queues.ts';
import type { TestEnvironment } from '../support/context.ts';
import { type HeldJob, JobRunner, type KernelRunner } from '../../worker/job-runner.ts';
import type { TenantPlan } from '../../worker/tenant-plans.ts';

/** The plan the runner tests hold their entries under: no concurrency cap, a minute a job. */
export const TEST_PLAN: TenantPlan = { code: 'enterprise', weight: 8, max_concurrent_jobs: -1, max_job_runtime_ms: 60_000 };

/**
 * A held queue entry as the fetcher hands it over — a single job (`jobIds` absent, `entry` its id),
 * a chunk of `jobIds`, or tiny single submissions sharing an entry (`coalesced`) — whose BullMQ
 * moves are written to `told`.
 */
export function testHeldEntry(entry: string, tenantId: string, told: string[], options: { jobIds?: string[]; coalesced?: boolean; stalledCounter?: number } = {}): HeldJob {
  return {
    id: entry,
    tenantId,
    token: `token-${entry}`,
    job: {
      id: entry,
      data: { tenant_id: tenantId, ...(options.jobIds ? { job_ids: options.jobIds } : {}), ...(options.coalesced ? { coalesced: true } : {}) },
      stalledCounter: options.stalledCounter ?? 0,
      moveToCompleted: async (why: string) => void told.push(`completed: ${why}`),
      moveToFailed: async () => void told.push('failed'),
      moveToDelayed: async () => void told.push('delayed'),
      moveToWait: async () => void told.push('wait'),
    } as unknown as Job<PipelineJobData>,
    plan: TEST_PLAN,
    abort: new AbortController(),
    lockedAt: Date.now(),
  };
}

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
