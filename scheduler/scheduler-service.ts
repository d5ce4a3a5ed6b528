/**
 * The scheduler role: declares every maintenance task as a BullMQ job scheduler and consumes the
 * maintenance queue. Any number of scheduler processes may run: the schedulers are upserted under
 * fixed ids (one schedule, however many declare it), each run goes to one process, and tasks
 * that must not overlap take an advisory lock.
 */
import { Queue, Worker } from 'bullmq';
import type { Db } from '../shared/db.ts';
import { MailOutbox } from '../shared/mail/mail-queue.ts';
import { closeRedis, createRedisFromConfig, type RedisClient } from '../shared/redis.ts';
import type { Runtime } from '../shared/runtime.ts';
import { once, type Service } from '../shared/service.ts';
import { createDeliveryDb } from '../shared/webhooks/delivery-db.ts';
import { createWebhookDispatcher, type WebhookDispatcher } from '../shared/webhooks/dispatcher.ts';
import { resealWebhookSecrets } from '../shared/webhooks/reseal-secrets.ts';
import { runExclusive } from './exclusive.ts';
import { MAINTENANCE_JOB_RETENTION, MAINTENANCE_QUEUE } from '../shared/queues/maintenance-queue.ts';
import { backupLastSuccess, backupSize, maintenanceDuration, maintenanceRuns } from './metrics.ts';
import { type MaintenanceTask, maintenanceTasks, type TaskOptions } from './tasks.ts';

export interface SchedulerServiceOptions extends TaskOptions {
  /** Replaces the standard tasks (tests). */
  tasks?: MaintenanceTask[];
  /**
   * Runs of different tasks in flight in this process at once.
   * @defaultValue 4
   */
  concurrency?: number;
  /**
   * How often each process checks that the schedules are still in Redis, in ms.
   * @defaultValue 5000
   */
  scheduleCheckMs?: number;
}

export class SchedulerService implements Service {
  readonly name = 'scheduler';
  private readonly tasks: Map<string, MaintenanceTask>;
  private readonly concurrency: number;
  private readonly closing = new AbortController();
  private queue: Queue | undefined;
  private worker: Worker | undefined;
  private connection: RedisClient | undefined;
  private readonly dispatcher: WebhookDispatcher;
  private readonly deliveryDb: Db;
  /** Queues the notifications' mail (the `notify` task). */
  private readonly mail: MailOutbox;
  private readonly checkEveryMs: number;
  private checkTimer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly runtime: Runtime,
    options: SchedulerServiceOptions = {},
  ) {
    this.deliveryDb = createDeliveryDb(runtime.config, 'catalytic:webhook-retry');
    this.mail = new MailOutbox(runtime.config, runtime.redis, runtime.logger);
    const tasks = options.tasks ?? maintenanceTasks(runtime, { deliveryDb: this.deliveryDb, mail: this.mail, ...options });
    this.tasks = new Map(tasks.map((t) => [t.name, t]));
    this.concurrency = options.concurrency ?? 4;
    this.checkEveryMs = options.scheduleCheckMs ?? 5000;
    this.dispatcher = createWebhookDispatcher(runtime);
  }

  async start(): Promise<void> {
    const { config, logger } = this.runtime;
    const queue = new Queue(MAINTENANCE_QUEUE, { connection: this.runtime.redis, prefix: config.REDIS_PREFIX });
    queue.on('error', (err) => logger.warn({ err }, 'scheduler: queue error'));
    this.queue = queue;
    for (const task of this.tasks.values()) {
      if (task.repeat) await this.declare(queue, task, task.repeat);
      else await queue.removeJobScheduler(task.name);
    }

    this.connection = createRedisFromConfig(config, 'catalytic:scheduler', 'blocking');
    const worker = new Worker(MAINTENANCE_QUEUE, async (job) => this.runTask(job.name), {
      connection: this.connection,
      prefix: config.REDIS_PREFIX,
      concurrency: this.concurrency,
      autorun: false,
    });
    worker.on('error', (err) => logger.warn({ err }, 'scheduler: worker error'));
    this.worker = worker;
    void worker.run().catch((err: unknown) => logger.error({ err }, 'scheduler worker stopped'));
    await worker.waitUntilReady();
    logger.info(
      { tasks: [...this.tasks.values()].map((t) => ({ task: t.name, ...(t.repeat ?? { disabled: true }) })) },
      'maintenance schedules declared',
    );
    this.scheduleCheck();
    await this.resealSecrets();
  }

  /**
   * Seals webhook secrets still in plain text (written before encryption existed) or under an
   * earlier key (after a rotation) with the current key. A failure does not stop the scheduler:
   * the secrets still open, and the next start tries again.
   */
  private async resealSecrets(): Promise<void> {
    const { logger, db, secretBox } = this.runtime;
    try {
      const report = await resealWebhookSecrets(db, secretBox, { logger });
      if (report.resealed || report.unreadable) logger.info(report, 'webhook secrets resealed with the current key');
    } catch (err) {
      logger.warn({ err }, 'scheduler: could not reseal webhook secrets');
    }
  }

  private declare(queue: Queue, task: MaintenanceTask, repeat: NonNullable<MaintenanceTask['repeat']>): Promise<unknown> {
    return queue.upsertJobScheduler(task.name, repeat, {
      name: task.name,
      data: {},
      opts: { removeOnComplete: MAINTENANCE_JOB_RETENTION.completed, removeOnFail: MAINTENANCE_JOB_RETENTION.failed },
    });
  }

  /**
   * The schedules live in Redis, which may lose them (a restart without persistence, a failover
   * to a replica that had not caught up, a flush): every few seconds each process declares again
   * any that is missing, or nothing would ever run reconcile — the very task that repairs what
   * Redis lost.
   */
  private scheduleCheck(): void {
    this.checkTimer = setTimeout(() => {
      this.checking = this.redeclareLost()
        .catch((err: unknown) => this.runtime.logger.warn({ err }, 'scheduler: could not check the maintenance schedules'))
        .finally(() => {
          this.checking = undefined;
          if (this.checkTimer) this.scheduleCheck();
        });
    }, this.checkEveryMs);
  }

  private async redeclareLost(): Promise<void> {
    const queue = this.queue;
    if (!queue) return;
    for (const task of this.tasks.values()) {
      if (!task.repeat || (await queue.getJobScheduler(task.name))) continue;
      await this.declare(queue, task, task.repeat);
      this.runtime.logger.warn({ task: task.name }, 'scheduler: a maintenance schedule was missing from Redis; declared it again');
    }
  }

  /** Runs one task now in this process (what a scheduled run does); used by tests and the CLI. */
  async runTask(name: string): Promise<Record<string, unknown>> {
    const { logger, db } = this.runtime;
    const task = this.tasks.get(name);
    if (!task) {
      // A schedule left by another version: nothing to do here.
      logger.warn({ task: name }, 'scheduler: unknown maintenance task');
      return { skipped: 'unknown task' };
    }
    const ctx = { runtime: this.runtime, signal: this.closing.signal, dispatcher: this.dispatcher };
    const stopTimer = maintenanceDuration.startTimer({ task: name });
    try {
      let result: Record<string, unknown>;
      if (task.exclusive) {
        const outcome = await runExclusive(db, `maintenance:${name}`, () => task.run(ctx));
        result = outcome.ran ? outcome.value : { skipped: 'another process is running it' };
      } else {
        result = await task.run(ctx);
      }
      const skipped = 'skipped' in result;
      maintenanceRuns.inc({ task: name, outcome: skipped ? 'skipped' : 'success' });
      if (name === 'backup' && !skipped) {
        backupLastSuccess.set(Date.now() / 1000);
        if (typeof result.bytes === 'number') backupSize.set(result.bytes);
      }
      // A run that found nothing to do is a tick, not news: debug.
      const idle = Object.values(result).every((v) => v === 0 || v === false || v === undefined);
      logger[idle || skipped ? 'debug' : 'info']({ task: name, ...result }, `maintenance task ${name} done`);
      return result;
    } catch (err) {
      maintenanceRuns.inc({ task: name, outcome: 'failure' });
      logger.error({ err, task: name }, `maintenance task ${name} failed`);
      throw err;
    } finally {
      stopTimer();
    }
  }

  readonly close = once(async () => {
    this.closing.abort();
    const checkTimer = this.checkTimer;
    this.checkTimer = undefined;
    clearTimeout(checkTimer);
    await this.checking;
    try {
      await this.worker?.close();
    } catch (err) {
      this.runtime.logger.warn({ err }, 'scheduler: closing the worker failed');
    }
    try {
      await this.queue?.close();
    } catch (err) {
      this.runtime.logger.warn({ err }, 'scheduler: closing the queue failed');
    }
    await this.dispatcher.close();
    await this.mail.close();
    if (this.connection) await closeRedis(this.connection);
    await this.deliveryDb.destroy();
  });
}
