/**
 * Retention deletes exactly the finished jobs (with their results) and finished deliveries that
 * are older than their tenant's plan keeps, in batches, and nothing else; a batch's jobs go with
 * their batch, once it is complete and past retention, never before; the BullMQ trim removes only
 * old finished entries.
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention, NOTIFICATION_KEEP_DAYS } from '../../scheduler/retention.ts';
import { SchedulerService } from '../../scheduler/scheduler-service.ts';
import { trimFinishedEntries } from '../../scheduler/queue-trim.ts';
import { tenantQueueName } from '../../shared/queues/names.ts';
import { createRedis, type Redis } from '../../shared/redis.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { insertEndpoint, insertJob } from '../webhooks/fixtures.ts';

const env = useTestEnvironment({ BACKUP_CRON: 'off' });

const daysAgo = (days: number) => new Date(Date.now() - days * 24 * 3600_000);

interface Arranged {
  keepJobs: string[];
  dropJobs: string[];
  keepDeliveries: string[];
  dropDeliveries: string[];
  keepRefreshTokens: string[];
  dropRefreshTokens: string[];
  keepBatches: string[];
  dropBatches: string[];
  /** Jobs that go with their batches. */
  dropBatchJobs: string[];
  keepNotifications: string[];
  dropNotifications: string[];
}

async function arrange(): Promise<Arranged> {
  const a: Arranged = { keepJobs: [], dropJobs: [], keepDeliveries: [], dropDeliveries: [], keepRefreshTokens: [], dropRefreshTokens: [], keepBatches: [], dropBatches: [], dropBatchJobs: [], keepNotifications: [], dropNotifications: [] };
  // A plan that keeps everything (-1), beside the seeded free (7 days) and professional (90).
  await env.db('plans')
    .insert({
      code: 'archive_test', name: 'Archive', price_cents: 0, weight: 1, max_concurrent_jobs: 1, max_lattices: 1,
      max_dimensions: 1, max_side: 1, max_cells: 1, api_calls_per_month: 1, jobs_per_month: 1, requests_per_minute: 1,
      retention_days: -1, max_job_runtime_ms: 1000,
    })
    .onConflict('code')
    .ignore();

  const job = async (tenantId: string, status: string, finishedDaysAgo: number | null, createdDaysAgo = finishedDaysAgo ?? 0) =>
    insertJob(env.db, tenantId, {
      status,
      finishedAt: finishedDaysAgo === null ? null : daysAgo(finishedDaysAgo),
      createdAt: daysAgo(createdDaysAgo + 0.01),
    });
  const delivery = async (tenantId: string, webhookId: string, status: string, ageDays: number, jobId: string | null = null) => {
    const [row] = await env
      .db('webhook_deliveries')
      .insert({
        tenant_id: tenantId,
        webhook_id: webhookId,
        job_id: jobId,
        event_id: `evt_${Math.random().toString(16).slice(2)}`,
        event_type: 'job.completed',
        payload: {},
        status,
        next_attempt_at: status === 'pending' ? env.db.fn.now() : null,
        created_at: daysAgo(ageDays),
      })
      .returning<Array<{ id: string }>>('id');
    return (row as { id: string }).id;
  };

  /** A batch completed `completedDaysAgo` (null: not yet), with jobs of the given states and finish ages. */
  const batch = async (tenantId: string, completedDaysAgo: number | null, jobs: Array<[status: string, finishedDaysAgo: number | null]>) => {
    const unfinished = jobs.filter(([, finished]) => finished === null).length;
    const [row] = await env
      .db('batches')
      .insert({ tenant_id: tenantId, total: jobs.length, unfinished, completed_at: completedDaysAgo === null ? null : daysAgo(completedDaysAgo), created_at: daysAgo(200) })
      .returning<Array<{ id: string }>>('id');
    const batchId = (row as { id: string }).id;
    const jobIds: string[] = [];
    for (const [index, [status, finished]] of jobs.entries()) {
      const id = await job(tenantId, status, finished, 200);
      await env.db('jobs').where({ id }).update({ batch_id: batchId, batch_index: index });
      jobIds.push(id);
    }
    return { batchId, jobIds };
  };

  const free = (await createTestTenant(env.db, { plan: 'free' })).tenantId;
  const freeHook = (await insertEndpoint(env.db, free, 'http://127.0.0.1:9/x')).id;
  const oldDone = await job(free, 'completed', 8);
  await env.db('job_results').insert({ job_id: oldDone, tenant_id: free, result: { clusters: 3 } });
  a.dropJobs.push(oldDone, await job(free, 'failed', 8), await job(free, 'cancelled', 7.5));
  a.keepJobs.push(await job(free, 'completed', 6.9), await job(free, 'cancelled', 1));
  // Never finished, however old: queued and running jobs stay.
  a.keepJobs.push(await job(free, 'queued', null, 30), await job(free, 'running', null, 30));
  a.dropDeliveries.push(await delivery(free, freeHook, 'succeeded', 8, oldDone), await delivery(free, freeHook, 'failed', 8));
  a.keepDeliveries.push(await delivery(free, freeHook, 'succeeded', 6.9));
  // A pending delivery stays, even of a job retention deletes.
  a.keepDeliveries.push(await delivery(free, freeHook, 'pending', 8, oldDone));
  // Batches: a complete one past retention goes with its jobs (and their results); one completed
  // recently keeps its old jobs; an unfinished one keeps its long-finished job.
  const oldBatch = await batch(free, 8, [['completed', 9], ['failed', 8.5], ['cancelled', 8]]);
  await env.db('job_results').insert({ job_id: oldBatch.jobIds[0], tenant_id: free, result: { clusters: 1 } });
  a.dropBatches.push(oldBatch.batchId);
  a.dropBatchJobs.push(...oldBatch.jobIds);
  const recentBatch = await batch(free, 6.9, [['completed', 30], ['completed', 6.9]]);
  a.keepBatches.push(recentBatch.batchId);
  a.keepJobs.push(...recentBatch.jobIds);
  const openBatch = await batch(free, null, [['completed', 30], ['running', null]]);
  a.keepBatches.push(openBatch.batchId);
  a.keepJobs.push(...openBatch.jobIds);

  const pro = (await createTestTenant(env.db, { plan: 'professional' })).tenantId;
  const proHook = (await insertEndpoint(env.db, pro, 'http://127.0.0.1:9/x')).id;
  a.keepJobs.push(await job(pro, 'completed', 8), await job(pro, 'failed', 89));
  a.dropJobs.push(await job(pro, 'completed', 91), await job(pro, 'failed', 120));
  a.keepDeliveries.push(await delivery(pro, proHook, 'succeeded', 89));
  const proBatch = await batch(pro, 91, [['completed', 91]]);
  a.dropBatches.push(proBatch.batchId);
  a.dropBatchJobs.push(...proBatch.jobIds);
  const proKept = await batch(pro, 89, [['completed', 95]]);
  a.keepBatches.push(proKept.batchId);
  a.keepJobs.push(...proKept.jobIds);
  a.dropDeliveries.push(await delivery(pro, proHook, 'failed', 91));

  // Refresh tokens: a session all of whose tokens expired goes; a session with one live token
  // keeps its expired (used) tokens too, so that reusing one is still caught.
  const user = (await env.db('users').where({ tenant_id: free }).first<{ id: string }>('id')) as { id: string };
  const refreshToken = async (familyId: string, expiresDaysAgo: number) => {
    const [row] = await env
      .db('refresh_tokens')
      .insert({ tenant_id: free, user_id: user.id, family_id: familyId, token_hash: randomUUID(), expires_at: daysAgo(expiresDaysAgo) })
      .returning<Array<{ id: string }>>('id');
    return (row as { id: string }).id;
  };
  const [deadSession, liveSession] = [randomUUID(), randomUUID()];
  a.dropRefreshTokens.push(await refreshToken(deadSession, 3), await refreshToken(deadSession, 0.01));
  a.keepRefreshTokens.push(await refreshToken(liveSession, 3), await refreshToken(liveSession, -20));

  // Notifications: mailed past NOTIFICATION_KEEP_DAYS goes; a recent one, or an old one not yet
  // mailed, stays.
  const notification = async (createdDaysAgo: number, dispatched: boolean) => {
    const [row] = await env
      .db('notifications')
      .insert({ tenant_id: free, kind: 'quota_warning', key: `quota:test:${randomUUID()}`, params: {}, created_at: daysAgo(createdDaysAgo), dispatched_at: dispatched ? daysAgo(createdDaysAgo) : null })
      .returning<Array<{ id: string }>>('id');
    return (row as { id: string }).id;
  };
  a.dropNotifications.push(await notification(NOTIFICATION_KEEP_DAYS + 1, true));
  a.keepNotifications.push(await notification(NOTIFICATION_KEEP_DAYS - 1, true), await notification(NOTIFICATION_KEEP_DAYS + 30, false));

  const archive = (await createTestTenant(env.db, { plan: 'archive_test' })).tenantId;
  const archiveHook = (await insertEndpoint(env.db, archive, 'http://127.0.0.1:9/x')).id;
  a.keepJobs.push(await job(archive, 'completed', 1000));
  const archiveBatch = await batch(archive, 1000, [['completed', 1000]]);
  a.keepBatches.push(archiveBatch.batchId);
  a.keepJobs.push(...archiveBatch.jobIds);
  a.keepDeliveries.push(await delivery(archive, archiveHook, 'succeeded', 1000));
  return a;
}

describe('retention', () => {
  let arranged: Arranged;
  beforeAll(async () => {
    arranged = await arrange();
  });

  it('deletes exactly what is past its plan’s retention, in batches, and nothing else', async () => {
    const jobsBefore = Number((await env.db('jobs').count({ n: '*' }))[0]?.n);
    const report = await applyRetention(env.db, { batchSize: 2 });
    expect(report).toEqual({
      jobs: arranged.dropJobs.length,
      batches: arranged.dropBatches.length,
      batchJobs: arranged.dropBatchJobs.length,
      deliveries: arranged.dropDeliveries.length,
      refreshTokens: arranged.dropRefreshTokens.length,
      latticeVersions: 0,
      blobs: 0,
      notifications: arranged.dropNotifications.length,
    });
    const notificationIds = (await env.db('notifications').select<Array<{ id: string }>>('id')).map((r) => r.id);
    expect(notificationIds.sort()).toEqual([...arranged.keepNotifications].sort());
    const tokenIds = (await env.db('refresh_tokens').select<Array<{ id: string }>>('id')).map((r) => r.id);
    expect(tokenIds.sort()).toEqual([...arranged.keepRefreshTokens].sort());

    const jobIds = (await env.db('jobs').select<Array<{ id: string }>>('id')).map((r) => r.id);
    expect(jobIds.sort()).toEqual([...arranged.keepJobs].sort());
    expect(jobIds).toHaveLength(jobsBefore - arranged.dropJobs.length - arranged.dropBatchJobs.length);
    const batchIds = (await env.db('batches').select<Array<{ id: string }>>('id')).map((r) => r.id);
    expect(batchIds.sort()).toEqual([...arranged.keepBatches].sort());
    const deliveryIds = (await env.db('webhook_deliveries').select<Array<{ id: string }>>('id')).map((r) => r.id);
    expect(deliveryIds.sort()).toEqual([...arranged.keepDeliveries].sort());
    // Results went with their jobs; the kept pending delivery lost only its job reference.
    expect(await env.db('job_results').count({ n: '*' })).toEqual([{ n: 0 }]);
    const pending = await env.db('webhook_deliveries').where({ status: 'pending' }).first('job_id');
    expect(pending).toEqual({ job_id: null });

    // A second pass finds nothing more.
    expect(await applyRetention(env.db, { batchSize: 2 })).toEqual({ jobs: 0, batches: 0, batchJobs: 0, deliveries: 0, refreshTokens: 0, latticeVersions: 0, blobs: 0, notifications: 0 });
  });

  it('runs as the scheduler’s retention task', async () => {
    const runtime = env.runtime();
    const scheduler = new SchedulerService(runtime);
    try {
      const result = await scheduler.runTask('retention');
      expect(result).toEqual({ jobs: 0, batches: 0, batchJobs: 0, deliveries: 0, refreshTokens: 0, latticeVersions: 0, blobs: 0, notifications: 0, queueEntries: 0 });
    } finally {
      await scheduler.close();
    }
  });
});

describe('BullMQ trimming', () => {
  let connection: Redis;
  beforeAll(() => {
    connection = createRedis(env.env.REDIS_URL as string, { purpose: 'blocking' });
  });
  afterAll(() => connection?.quit());

  it('removes completed and failed entries older than the grace period, and nothing else', async () => {
    const tenantId = (await createTestTenant(env.db)).tenantId;
    const name = tenantQueueName(tenantId);
    const queue = new Queue(name, { connection, prefix: env.redisPrefix });
    const worker = new Worker(
      name,
      async (job) => {
        if (job.data.fail) throw new Error('planned failure');
        return 'ok';
      },
      { connection, prefix: env.redisPrefix },
    );
    try {
      const finished = new Promise<void>((resolve) => {
        let n = 0;
        const count = () => {
          n++;
          if (n === 3) resolve();
        };
        worker.on('completed', count);
        worker.on('failed', count);
      });
      await queue.addBulk([
        { name: 'a', data: { fail: false } },
        { name: 'b', data: { fail: false } },
        { name: 'c', data: { fail: true } },
      ]);
      await finished;
      await worker.close();
      await queue.add('waiting', { fail: false });
      const options = { connection, prefix: env.redisPrefix };
      expect(await trimFinishedEntries([name], { ...options, keepMs: 60_000 })).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await trimFinishedEntries([name], { ...options, keepMs: 10 })).toBe(3);
      expect(await queue.getJobCounts('completed', 'failed', 'waiting')).toEqual({ completed: 0, failed: 0, waiting: 1 });
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
