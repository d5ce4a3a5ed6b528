/**
 * How a worker treats a failing attempt, with the real fetcher, runner, PostgreSQL and Redis and a
 * scripted kernel runner in place of the thread pool (a real pool cannot be made to fail on cue):
 * infrastructure failures are retried with exponential backoff until attempts run out; a bad
 * lattice or parameters fail at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatticeValidationError } from '../../shared/lattice/errors.ts';
import type { KernelRunner } from '../../worker/job-runner.ts';
import { PipelineWorker } from '../../worker/pipeline-worker.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { submit, waitForJob } from './support.ts';

const env = useTestEnvironment({ JOB_MAX_ATTEMPTS: '3' });
const api = useTestApi(env);

type Step = 'transient' | 'invalid' | 'ok';

/** Answers each job (told apart by its end cell) by its script, one step per attempt. */
class ScriptedKernels implements KernelRunner {
  readonly calls = new Map<string, number[]>();
  constructor(private readonly scripts: Record<string, Step[]>) {}

  async run(_type: string, _spec: unknown, params: unknown): Promise<object> {
    const key = JSON.stringify((params as { end: number[] }).end);
    const calls = this.calls.get(key) ?? [];
    calls.push(Date.now());
    this.calls.set(key, calls);
    const script = this.scripts[key] ?? ['ok'];
    const step = script[Math.min(calls.length, script.length) - 1];
    if (step === 'transient') throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    if (step === 'invalid') throw new LatticeValidationError('params_invalid', 'params.end', 'params.end: not a cell this kernel accepts');
    return { reachable: true, attempt: calls.length };
  }
}

const kernels = new ScriptedKernels({
  '[1,1]': ['transient', 'ok'],
  '[1,2]': ['transient'],
  '[2,2]': ['invalid'],
});
let worker: PipelineWorker;
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTestTenant(env.db);
  worker = new PipelineWorker(env.runtime({ WORKER_CONCURRENCY: '4' }), { kernels, idlePollMs: 50 });
  await worker.start();
});

afterAll(async () => {
  await worker.close();
});

const job = (end: number[]) => ({ type: 'shortest_path', lattice: { shape: [3, 3] }, params: { start: [0, 0], end } });

describe('failing attempts', () => {
  it('retries an infrastructure failure after a backoff, and the next attempt completes', async () => {
    const submitted = await submit(api, tenant.headers, job([1, 1]));
    const done = await waitForJob(api, tenant.headers, submitted.id);
    expect(done).toMatchObject({ status: 'completed', attempts: 2, result: { attempt: 2 }, error: null });
    const [first, second] = kernels.calls.get('[1,1]') as number[];
    // The first retry waits about a second (±20%).
    expect(second! - first!).toBeGreaterThanOrEqual(750);
  });

  it('fails the job once every attempt failed, keeping the last error', async () => {
    const submitted = await submit(api, tenant.headers, job([1, 2]));
    const done = await waitForJob(api, tenant.headers, submitted.id);
    expect(done).toMatchObject({ status: 'failed', attempts: 3, result: null, error: { code: 'attempts_exhausted' } });
    expect(done.error?.message).toMatch(/ECONNRESET/);
    const calls = kernels.calls.get('[1,2]') as number[];
    expect(calls).toHaveLength(3);
    // Exponential: the second wait is about twice the first.
    expect(calls[2]! - calls[1]!).toBeGreaterThan(1.2 * (calls[1]! - calls[0]!));
  }, 30_000);

  it('fails a bad lattice or parameters at once, without retrying', async () => {
    const submitted = await submit(api, tenant.headers, job([2, 2]));
    const done = await waitForJob(api, tenant.headers, submitted.id);
    expect(done).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'params_invalid' } });
    expect(kernels.calls.get('[2,2]')).toHaveLength(1);
  });
});
