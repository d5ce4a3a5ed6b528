/**
 * The worker's group commit: batching without timers (one item alone is written at once; items
 * arriving during a write go together in the next), one job never twice in a batch, a failing
 * batch retried item by item; and through the job runner on the real database: many jobs ending
 * together are each written final exactly once with their own result, BullMQ hears of each only
 * after its row committed, and a job cancelled while its completion waits for a batch ends
 * cancelled without a result, and a job whose final write fails fails alone (the batch is rolled
 * back and its other jobs are written without it). Followers hear `running` only from a job whose kernel did not
 * answer at once.
 */
import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { JobRow } from '../../shared/jobs/types.ts';
import { workerWriteBatchSize } from '../../shared/metrics.ts';
import { jobChannel } from '../../shared/queues/names.ts';
import type { PipelineJobData } from '../../shared/queues/tenant-queues.ts';
import { duplicateRedis } from '../../shared/redis.ts';
import { GroupCommit } from '../../worker/group-commit.ts';
import type { HeldJob, JobRunner, KernelRunner } from '../../worker/job-runner.ts';
import type { TenantPlan } from '../../worker/tenant-plans.ts';
import { useTestEnvironment } from '../support/context.ts';
import { testJobRunner } from './test-job-runner.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('GroupCommit', () => {
  it('writes a lone item at once and gathers the items that arrive during a write', async () => {
    const writes: number[][] = [];
    const inFlight: Array<() => void> = [];
    const commit = new GroupCommit<number, string>({
      write: async (items) => {
        writes.push([...items]);
        await new Promise<void>((resolve) => inFlight.push(resolve));
        return items.map((i) => `answer ${i}`);
      },
      maxBatch: 3,
      key: String,
    });
    const first = commit.submit(1);
    expect(writes).toEqual([[1]]);
    const rest = [2, 3, 4, 5].map((i) => commit.submit(i));
    expect(commit.waiting).toBe(4);
    inFlight.shift()?.();
    expect(await first).toBe('answer 1');
    await until(() => writes.length === 2, 'the second write');
    expect(writes[1]).toEqual([2, 3, 4]);
    inFlight.shift()?.();
    await until(() => writes.length === 3, 'the third write');
    expect(writes[2]).toEqual([5]);
    inFlight.shift()?.();
    expect(await Promise.all(rest)).toEqual(['answer 2', 'answer 3', 'answer 4', 'answer 5']);
  });

  it('with gatherTurn, writes the items that the promise chains of one turn hand in together, in that turn', async () => {
    const writes: number[][] = [];
    const commit = new GroupCommit<number, string>({
      write: async (items) => {
        writes.push([...items]);
        return items.map((i) => `answer ${i}`);
      },
      maxBatch: 10,
      key: String,
      gatherTurn: true,
    });
    // Each item comes a few promise steps after the last, as fetched jobs reach the read.
    const chain = async (i: number): Promise<string> => {
      for (let step = 0; step < i; step++) await null;
      return commit.submit(i);
    };
    const answers = Promise.all([0, 1, 2, 3, 4].map(chain));
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([[0, 1, 2, 3, 4]]);
    expect(await answers).toEqual([0, 1, 2, 3, 4].map((i) => `answer ${i}`));
  });

  it('never puts one key twice in a batch, and retries a failed batch item by item', async () => {
    const writes: string[][] = [];
    const commit = new GroupCommit<string, string>({
      write: async (items) => {
        writes.push([...items]);
        await Promise.resolve();
        if (items.includes('bad')) throw new Error('bad item');
        return items.map((i) => i.toUpperCase());
      },
      maxBatch: 10,
      key: (item) => item,
    });
    const answers = ['a', 'a', 'bad', 'b'].map((i) =>
      commit.submit(i).then(
        (answer) => answer,
        (err: unknown) => `rejected: ${(err as Error).message}`,
      ),
    );
    expect(await Promise.all(answers)).toEqual(['A', 'A', 'rejected: bad item', 'B']);
    // 'a' alone; then a, bad, b together (fails); each again alone.
    expect(writes).toEqual([['a'], ['a', 'bad', 'b'], ['a'], ['bad'], ['b']]);
  });

  it('writes many items handed in together as if submitted in turn, answers them in order with one promise, and rejects it only once all settled', async () => {
    const writes: string[][] = [];
    const committed: string[] = [];
    const inFlight: Array<() => void> = [];
    const commit = new GroupCommit<string, string>({
      write: async (items) => {
        writes.push([...items]);
        await new Promise<void>((resolve) => inFlight.push(resolve));
        if (items.includes('bad')) throw new Error('bad item');
        committed.push(...items);
        return items.map((i) => i.toUpperCase());
      },
      maxBatch: 3,
      key: (item) => item,
    });
    const lone = commit.submit('x');
    const many = commit.submitMany(['a', 'b', 'c', 'd']);
    const after = commit.submit('e');
    expect(commit.waiting).toBe(5);
    while (writes.length < 3 || inFlight.length > 0) {
      inFlight.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(await lone).toBe('X');
    expect(await many).toEqual(['A', 'B', 'C', 'D']);
    expect(await after).toBe('E');
    expect(writes).toEqual([['x'], ['a', 'b', 'c'], ['d', 'e']]);
    expect(await commit.submitMany([])).toEqual([]);

    // One bad item: its batch is retried item by item, the others are written, and the promise
    // rejects once every item has settled.
    writes.length = 0;
    const failing = commit.submitMany(['p', 'bad', 'q']).then(
      () => 'resolved',
      (err: unknown) => `rejected: ${(err as Error).message}`,
    );
    let outcome: string | undefined;
    let committedAtOutcome: string[] = [];
    void failing.then((o) => {
      outcome = o;
      committedAtOutcome = [...committed];
    });
    while (outcome === undefined) {
      inFlight.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(outcome).toBe('rejected: bad item');
    expect(committedAtOutcome).toContain('q');
    expect(writes).toEqual([['p', 'bad', 'q'], ['p'], ['bad'], ['q']]);
  });

  it('refuses a batch size that is not a positive integer', () => {
    expect(() => new GroupCommit({ write: async () => [], maxBatch: 0, key: String })).toThrow('maxBatch');
  });
});

/** Things the runner told BullMQ, with the row's status at that moment. */
interface Told {
  jobId: string;
  what: string;
  rowStatus: string;
}

const PLAN: TenantPlan = { code: 'enterprise', weight: 8, max_concurrent_jobs: -1, max_job_runtime_ms: 60_000 };

function useRunner(
  kernels: KernelRunner,
  overrides: Record<string, string> = {},
): { runner: JobRunner; told: Told[]; held: (row: { id: string; tenant_id: string }) => HeldJob } {
  const told: Told[] = [];
  const runner = testJobRunner(env, kernels, overrides, 64);
  const tell = (jobId: string, what: string) => async () => {
    const row = (await env.db('jobs').where({ id: jobId }).first('status')) as { status: string };
    told.push({ jobId, what, rowStatus: row.status });
  };
  const held = (row: { id: string; tenant_id: string }): HeldJob => ({
    id: row.id,
    tenantId: row.tenant_id,
    token: `token-${row.id}`,
    job: {
      moveToCompleted: tell(row.id, 'completed'),
      moveToFailed: tell(row.id, 'failed'),
      moveToDelayed: tell(row.id, 'delayed'),
      moveToWait: tell(row.id, 'wait'),
    } as unknown as Job<PipelineJobData>,
    plan: PLAN,
    abort: new AbortController(),
    lockedAt: Date.now(),
  });
  return { runner, told, held };
}

/** Queued job rows, each with its own parameters (`tag`) for the stub kernel to echo. */
async function queuedJobs(tenantId: string, count: number): Promise<JobRow[]> {
  return (await env.db('jobs')
    .insert(
      Array.from({ length: count }, (_, tag) => ({
        tenant_id: tenantId,
        type: 'shortest_path',
        lattice: { shape: [4, 4] },
        params: { start: [0, 0], end: [3, 3], tag },
        cells: 16,
      })),
    )
    .returning('*')) as JobRow[];
}

async function finishBatches(): Promise<{ count: number; sum: number }> {
  const values = (await workerWriteBatchSize.get()).values.filter((v) => v.labels.write === 'finish');
  const of = (name: string) => values.find((v) => v.metricName === `catalytic_worker_write_batch_size_${name}`)?.value ?? 0;
  return { count: of('count'), sum: of('sum') };
}

describe('job runner with group commit', () => {
  it('writes each of many jobs ending together final exactly once, with its own result', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const rows = await queuedJobs(tenant.tenantId, 60);
    const release = gate();
    const kernels: KernelRunner = {
      run: async (_type, _spec, params) => {
        await release.opened;
        return { echo: params };
      },
    };
    const { runner, told, held } = useRunner(kernels);
    const before = await finishBatches();
    const runs = rows.map((row) => runner.run(held(row)));
    await until(async () => Number((await env.db('jobs').where({ tenant_id: tenant.tenantId, status: 'running' }).count({ n: '*' }))[0]?.n) === 60, 'every job running');
    release.open();
    await Promise.all(runs);

    const after = await finishBatches();
    expect(after.sum - before.sum).toBe(60);
    // Ended in the same moment: far fewer writes than jobs.
    expect(after.count - before.count).toBeLessThanOrEqual(10);
    const final = (await env.db('jobs').where({ tenant_id: tenant.tenantId }).select('id', 'status', 'attempts', 'progress', 'params')) as JobRow[];
    expect(final.every((r) => r.status === 'completed' && r.attempts === 1 && r.progress === 1)).toBe(true);
    const results = (await env.db('job_results').whereIn('job_id', rows.map((r) => r.id)).select('job_id', 'tenant_id', 'result')) as Array<{
      job_id: string;
      tenant_id: string;
      result: { echo: Record<string, unknown> };
    }>;
    expect(results).toHaveLength(60);
    const paramsOf = new Map(final.map((r) => [r.id, r.params]));
    for (const result of results) {
      expect(result.tenant_id).toBe(tenant.tenantId);
      expect(result.result.echo).toEqual(paramsOf.get(result.job_id));
    }
    // BullMQ heard of every job once, and only after its row was committed final.
    expect(told).toHaveLength(60);
    expect(new Set(told.map((t) => t.jobId)).size).toBe(60);
    expect(told.every((t) => t.what === 'completed' && t.rowStatus === 'completed')).toBe(true);
  });

  it('ends a job cancelled while its completion waits for a batch as cancelled, without a result', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const [first, victim, other] = (await queuedJobs(tenant.tenantId, 3)) as [JobRow, JobRow, JobRow];
    const gates = new Map([first, victim, other].map((row) => [row.params.tag, gate()]));
    const kernels: KernelRunner = {
      run: async (_type, _spec, params) => {
        await gates.get((params as { tag: number }).tag)?.opened;
        return { tag: (params as { tag: number }).tag };
      },
    };
    const { runner, told, held } = useRunner(kernels);
    const runs = [first, victim, other].map((row) => runner.run(held(row)));
    await until(async () => Number((await env.db('jobs').where({ tenant_id: tenant.tenantId, status: 'running' }).count({ n: '*' }))[0]?.n) === 3, 'the jobs running');

    // Hold the first job's row so that its final write stays in flight.
    const lock = await env.db.transaction();
    try {
      await lock('jobs').where({ id: first.id }).forUpdate().first('id');
      gates.get(first.params.tag)?.open();
      await until(async () => {
        const waiting = await env.db('pg_stat_activity').where({ datname: env.databaseName, wait_event_type: 'Lock' }).count({ n: '*' });
        return Number(waiting[0]?.n) > 0;
      }, 'the first final write to wait for the lock');
      gates.get(victim.params.tag)?.open();
      gates.get(other.params.tag)?.open();
      await until(() => runner.waitingWrites === 2, 'both completions waiting for the next batch');
      // The API's cancel of a running job: the flag on the row (the worker is told over pub/sub).
      await env.db('jobs').where({ id: victim.id }).update({ cancel_requested_at: env.db.fn.now(), updated_at: env.db.fn.now() });
    } finally {
      await lock.commit();
    }
    await Promise.all(runs);

    const status = async (id: string) => ((await env.db('jobs').where({ id }).first('status')) as { status: string }).status;
    expect(await status(first.id)).toBe('completed');
    expect(await status(other.id)).toBe('completed');
    expect(await status(victim.id)).toBe('cancelled');
    const results = (await env.db('job_results').whereIn('job_id', [first.id, victim.id, other.id]).pluck('job_id')) as string[];
    expect(results.sort()).toEqual([first.id, other.id].sort());
    expect(told.find((t) => t.jobId === victim.id)).toEqual({ jobId: victim.id, what: 'completed', rowStatus: 'cancelled' });
    expect(told).toHaveLength(3);
  });
});

describe('a failing final write', () => {
  it('fails only its own job: the batch rolls back and the others are written without it', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const rows = await queuedJobs(tenant.tenantId, 6);
    const bad = rows[2] as JobRow;
    const release = gate();
    const kernels: KernelRunner = {
      run: async (_type, _spec, params) => {
        await release.opened;
        // PostgreSQL's jsonb refuses the NUL character: this job's result cannot be stored.
        return (params as { tag: number }).tag === bad.params.tag ? { text: 'nul \u0000 here' } : { ok: true };
      },
    };
    // One connection: a batch left half-done on it would break every write after it.
    const { runner, held } = useRunner(kernels, { DATABASE_POOL_MAX: '1' });
    const runs = rows.map((row) =>
      runner.run(held(row)).then(
        () => 'ran',
        () => 'failed',
      ),
    );
    await until(async () => Number((await env.db('jobs').where({ tenant_id: tenant.tenantId, status: 'running' }).count({ n: '*' }))[0]?.n) === 6, 'every job running');
    release.open();
    const outcomes = await Promise.all(runs);
    expect(outcomes.filter((o) => o === 'failed')).toHaveLength(1);
    expect(outcomes[2]).toBe('failed');
    const final = (await env.db('jobs').where({ tenant_id: tenant.tenantId }).select('id', 'status')) as Array<{ id: string; status: string }>;
    // The bad job stays running: its lock is no longer renewed and it comes back to a worker.
    expect(final.filter((r) => r.status === 'completed')).toHaveLength(5);
    expect(final.find((r) => r.id === bad.id)?.status).toBe('running');
    expect(await env.db('job_results').where({ job_id: bad.id }).first()).toBeUndefined();
  });
});

describe('job updates', () => {
  it('announce running only for a job whose kernel did not answer at once', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const [quick, slow] = (await queuedJobs(tenant.tenantId, 2)) as [JobRow, JobRow];
    const kernels: KernelRunner = {
      run: async (_type, _spec, params) => {
        // The slow one answers after a few turns of the event loop, as a kernel thread would.
        if ((params as { tag: number }).tag === slow.params.tag) await new Promise((resolve) => setTimeout(resolve, 20));
        return { ok: true };
      },
    };
    const { runner, held } = useRunner(kernels);
    const subscriber = duplicateRedis(env.redis, 'test:job-updates');
    const heard = new Map<string, string[]>([
      [quick.id, []],
      [slow.id, []],
    ]);
    subscriber.on('message', (channel: string, message: string) => {
      const update = JSON.parse(message) as { id: string; status: string };
      if (channel === jobChannel(env.redisPrefix, update.id)) heard.get(update.id)?.push(update.status);
    });
    try {
      await subscriber.subscribe(jobChannel(env.redisPrefix, quick.id), jobChannel(env.redisPrefix, slow.id));
      await Promise.all([runner.run(held(quick)), runner.run(held(slow))]);
      await until(() => heard.get(quick.id)?.at(-1) === 'completed' && heard.get(slow.id)?.at(-1) === 'completed', 'both completions heard');
      expect(heard.get(quick.id)).toEqual(['completed']);
      expect(heard.get(slow.id)).toEqual(['running', 'completed']);
    } finally {
      subscriber.disconnect();
    }
  });
});
