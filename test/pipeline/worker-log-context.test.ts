/**
 * The worker process never enters an AsyncLocalStorage: on Node 20 a storage entered once turns
 * on promise hooks for every promise of the process, which a tiny job pays on each of its own.
 * Its jobs (inline and threaded) and its webhook deliveries run without one; their log lines name
 * their job or tenant themselves.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/logger.ts';
import { DeliverySender } from '../../shared/webhooks/delivery-sender.ts';
import type { KernelRunner } from '../../worker/job-runner.ts';
import { PipelineWorker } from '../../worker/pipeline-worker.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { finishJobWithEvent, insertEndpoint, insertJob, testSecretBox } from '../webhooks/fixtures.ts';
import { TestReceiver } from '../webhooks/receiver.ts';
import { submitBacklog } from './support.ts';

const env = useTestEnvironment();
const api = useTestApi(env);

// Jobs ending at [3,3] take the one-job path (no inline run); the others run inline.
const kernels: KernelRunner = {
  run: async () => ({ reachable: true, threaded: true }),
  runInline: (_type, _spec, params) => ((params as { end: number[] }).end[1] === 3 ? undefined : Promise.resolve({ reachable: true })),
};
const job = (end: number[]) => ({ type: 'shortest_path' as const, lattice: { shape: [4, 4] }, params: { start: [0, 0], end } });

const entered = vi.spyOn(AsyncLocalStorage.prototype, 'run');
const enteredWith = vi.spyOn(AsyncLocalStorage.prototype, 'enterWith');

let worker: PipelineWorker;
let tenant: TestTenant;
let receiver: TestReceiver;

beforeAll(async () => {
  tenant = await createTestTenant(env.db);
  worker = new PipelineWorker(env.runtime({ WORKER_CONCURRENCY: '4' }), { kernels, idlePollMs: 20 });
  await worker.start();
  receiver = await new TestReceiver().start();
});

afterAll(async () => {
  await worker.close();
  await receiver.close();
});

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the worker process', () => {
  it('runs inline and threaded jobs without entering an AsyncLocalStorage', { timeout: 60_000 }, async () => {
    entered.mockClear();
    enteredWith.mockClear();
    const ids = await submitBacklog(api, tenant, 'enterprise', [job([1, 1]), job([2, 1]), job([3, 3])]);
    const statuses = async () => (await env.db('jobs').whereIn('id', ids).pluck('status')) as string[];
    await until(async () => (await statuses()).every((status) => status === 'completed'), 'three completed jobs');
    const results = (await env.db('job_results').whereIn('job_id', ids).pluck('result')) as Array<Record<string, unknown>>;
    expect(results.filter((r) => r.threaded === true)).toHaveLength(1);
    expect(entered).not.toHaveBeenCalled();
    expect(enteredWith).not.toHaveBeenCalled();
  });

  it('sends a webhook delivery without entering an AsyncLocalStorage, its log line naming the tenant', { timeout: 30_000 }, async () => {
    const config = parseConfig({ ...env.env, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    const logger = createLogger(config, 'test');
    const logged = vi.spyOn(logger, 'info');
    const sender = new DeliverySender({ db: env.db, logger, config, secretBox: testSecretBox(), random: () => 0.5 });
    await insertEndpoint(env.db, tenant.tenantId, receiver.url);
    const jobId = await insertJob(env.db, tenant.tenantId, { status: 'running' });
    const [deliveryId] = await finishJobWithEvent(env.db, tenant.tenantId, jobId);
    entered.mockClear();
    enteredWith.mockClear();
    expect(await sender.attemptIfDue(deliveryId as string)).toMatchObject({ outcome: 'succeeded', statusCode: 200 });
    expect(receiver.requests).toHaveLength(1);
    expect(entered).not.toHaveBeenCalled();
    expect(enteredWith).not.toHaveBeenCalled();
    expect(logged).toHaveBeenCalledWith(expect.objectContaining({ tenantId: tenant.tenantId, deliveryId }), 'webhook delivery attempt');
  });
});
