/**
 * A `catalytic worker` lowers its own CPU priority when WORKER_NICE says so, every thread of it,
 * so that beside an API on the same cores its jobs wait and requests do not (docs/operations.md › CPU priority).
 */
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../shared/config.ts';
import { threadNiceValues } from '../../shared/process-priority.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { startWorker, stopWorker, submit, waitForJob } from './support.ts';

const env = useTestEnvironment();
const api = useTestApi(env);

/** Large enough for a kernel thread (not the worker's own thread), over in milliseconds. */
const kernelJob = { type: 'diffusion', lattice: { shape: [100, 100] }, params: { steps: 5, alpha: 0.2, sources: [{ cell: [50, 50], value: 1 }] } };

describe('worker CPU priority', () => {
  it('defaults to the API\'s priority and takes 0–19 only', () => {
    expect(parseConfig({}).WORKER_NICE).toBe(0);
    expect(() => parseConfig({ WORKER_NICE: '20' })).toThrow(ConfigError);
    expect(() => parseConfig({ WORKER_NICE: '-1' })).toThrow('Invalid setting WORKER_NICE: must be at least 0');
  });

  it('runs every thread at WORKER_NICE, kernel threads started later included', { timeout: 120_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const worker = await startWorker(env, { WORKER_NICE: '7', KERNEL_THREADS: '2' });
    try {
      const pid = worker.child.pid!;
      const atStart = threadNiceValues(pid);
      // The main thread, V8's and libuv's threads, the kernel pool's.
      expect(atStart.length).toBeGreaterThan(4);
      expect(new Set(atStart)).toEqual(new Set([7]));
      const job = await submit(api, tenant.headers, kernelJob);
      expect((await waitForJob(api, tenant.headers, job.id)).status).toBe('completed');
      const afterJob = threadNiceValues(pid);
      expect(afterJob.length).toBeGreaterThanOrEqual(atStart.length);
      expect(new Set(afterJob)).toEqual(new Set([7]));
    } finally {
      await stopWorker(worker);
    }
  });

  it('leaves every thread at the priority it started with under WORKER_NICE=0', { timeout: 60_000 }, async () => {
    const worker = await startWorker(env, { WORKER_NICE: '0' });
    try {
      // A child starts at its parent's nice value: this test process's.
      expect(new Set(threadNiceValues(worker.child.pid!))).toEqual(new Set([getPriority()]));
    } finally {
      await stopWorker(worker);
    }
  });
});
