/**
 * The maintenance schedules live in Redis. When Redis loses them (a restart without persistence,
 * a failover to a replica that had not caught up), a running scheduler declares them again
 * within a few seconds — otherwise reconcile, which repairs what Redis lost, would never run
 * again.
 */
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { MAINTENANCE_QUEUE } from '../../shared/queues/maintenance-queue.ts';
import { SchedulerService } from '../../scheduler/scheduler-service.ts';
import type { MaintenanceTask } from '../../scheduler/tasks.ts';
import { deleteKeysWithPrefix } from '../../shared/redis.ts';
import { useTestEnvironment } from '../support/context.ts';

const env = useTestEnvironment({ BACKUP_CRON: 'off' });
const runs: string[] = [];
let scheduler: SchedulerService | undefined;
let queue: Queue | undefined;

afterAll(async () => {
  await scheduler?.close();
  await queue?.close();
});

describe('maintenance schedules', () => {
  it('are declared again after Redis loses them, and their tasks run again', async () => {
    const task: MaintenanceTask = {
      name: 'reconcile',
      repeat: { every: 200 },
      exclusive: false,
      async run() {
        runs.push('reconcile');
        return { ran: true };
      },
    };
    scheduler = new SchedulerService(env.runtime(), { tasks: [task], scheduleCheckMs: 300 });
    await scheduler.start();
    queue = new Queue(MAINTENANCE_QUEUE, { connection: env.redis, prefix: env.redisPrefix });
    queue.on('error', () => undefined);
    await expect.poll(() => runs.length, { timeout: 5000 }).toBeGreaterThan(0);

    await deleteKeysWithPrefix(env.redis, env.redisPrefix);
    expect(await queue.getJobScheduler('reconcile')).toBeUndefined();
    const before = runs.length;

    await expect.poll(async () => (await queue?.getJobScheduler('reconcile'))?.every, { timeout: 5000 }).toBe(200);
    await expect.poll(() => runs.length, { timeout: 5000 }).toBeGreaterThan(before + 1);
  });
});
