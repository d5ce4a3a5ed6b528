/**
 * A tenant at its plan's concurrency cap costs the fair fetcher nothing while it waits: when this
 * worker alone holds the cap's worth of its jobs, its backlog is not asked for another (BullMQ's
 * fetch script would refuse it) in any round, however many rounds other tenants' jobs make — and
 * the cap still holds. Real fetcher, runner, PostgreSQL and Redis; a kernel runner that holds the
 * capped tenant's jobs until told, in place of the thread pool.
 */
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tenantQueueName } from '../../shared/queues/tenant-queues.ts';
import type { KernelRunner } from '../../worker/job-runner.ts';
import { PipelineWorker } from '../../worker/pipeline-worker.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { submitBacklog } from './support.ts';

const env = useTestEnvironment();
const api = useTestApi(env);

// The capped tenant's jobs end at [3,3] and wait for the gate; the other tenant's end at once.
let openGate!: () => void;
const gate = new Promise<void>((resolve) => (openGate = resolve));
const kernels: KernelRunner = {
  async run(_type, _spec, params) {
    const end = (params as { end: number[] }).end;
    if (end[0] === 3 && end[1] === 3) await gate;
    return { reachable: true };
  },
};
const job = (end: number[]) => ({ type: 'shortest_path' as const, lattice: { shape: [4, 4] }, params: { start: [0, 0], end } });

/** `getNextJob` calls per tenant queue: the real method, counted. */
const asked = new Map<string, number>();
const getNextJob = Worker.prototype.getNextJob;
vi.spyOn(Worker.prototype, 'getNextJob').mockImplementation(function (this: Worker, ...args: Parameters<Worker['getNextJob']>) {
  asked.set(this.name, (asked.get(this.name) ?? 0) + 1);
  return getNextJob.apply(this, args);
});

let worker: PipelineWorker;
let capped: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  [capped, other] = await Promise.all([createTestTenant(env.db, { plan: 'free' }), createTestTenant(env.db, { plan: 'professional' })]);
  worker = new PipelineWorker(env.runtime({ WORKER_CONCURRENCY: '4' }), { kernels, idlePollMs: 20 });
  await worker.start();
});

afterAll(async () => {
  openGate();
  await worker.close();
});

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const countOf = async (tenantId: string, status: string): Promise<number> =>
  Number((await env.db('jobs').where({ tenant_id: tenantId, status }).count<{ n: string }[]>({ n: '*' }))[0]?.n);

describe('a tenant at its concurrency cap', () => {
  it('is not asked for another job while this worker holds its cap, and its backlog runs once they end', { timeout: 90_000 }, async () => {
    // The free plan runs two at once.
    await submitBacklog(api, capped, 'free', [job([3, 3]), job([3, 3]), job([3, 3]), job([3, 3])]);
    await until(async () => (await countOf(capped.tenantId, 'running')) === 2, 'two capped jobs running');
    const cappedQueue = tenantQueueName(capped.tenantId);
    asked.delete(cappedQueue);

    // Another tenant's jobs, one after another: each is a wake-up and a few fetch rounds.
    for (let i = 0; i < 8; i++) {
      await submitBacklog(api, other, 'professional', [job([i % 4, 1])]);
      await until(async () => (await countOf(other.tenantId, 'completed')) === i + 1, `the other tenant's job ${i + 1}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(asked.get(cappedQueue) ?? 0, 'fetches asked of the capped tenant').toBe(0);
    expect(await countOf(capped.tenantId, 'running')).toBe(2);

    openGate();
    await until(async () => (await countOf(capped.tenantId, 'completed')) === 4, 'the capped backlog');
  });
});
