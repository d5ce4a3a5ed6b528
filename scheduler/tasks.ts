/**
 * The maintenance tasks, their schedules and what each run does:
 * - `webhook-retry` (every WEBHOOK_RETRY_POLL_MS): attempts due deliveries. Any number of
 *   processes may run it at once: each delivery is claimed with `for update skip locked`.
 * - `reconcile` (every RECONCILE_EVERY_MS): the job pipeline's repair of Redis from PostgreSQL
 *   (`scheduler/reconcile.ts`), which has its own advisory lock too.
 * - `retention` (every RETENTION_EVERY_MS): deletes what plans no longer keep; trims BullMQ.
 * - `backup` (BACKUP_CRON, `off` to disable): pg_dump into BACKUP_DIR, keeping BACKUP_KEEP.
 * - `notify` (every NOTIFY_POLL_MS): mails recorded notifications; rows are claimed with
 *   `for update skip locked`, so any number of processes may run it.
 * - `quota-watch` (every QUOTA_WATCH_EVERY_MS): records quota notifications at 80% and 100%.
 * Tasks marked `exclusive` run in one process at a time (an advisory lock), even if BullMQ ever
 * hands the same run out twice (a stalled job given to another process).
 */
import type { Db } from '../shared/db.ts';
import { tenantQueueName } from '../shared/queues/names.ts';
import type { Runtime } from '../shared/runtime.ts';
import { DAY } from '../shared/units.ts';
import { WEBHOOK_DELIVERY_QUEUE } from '../shared/webhooks/delivery-queue.ts';
import { DeliverySender } from '../shared/webhooks/delivery-sender.ts';
import type { DeliveryDispatcher } from '../shared/webhooks/job-events.ts';
import { reconcile } from './reconcile.ts';
import { takeBackup } from '../shared/backup.ts';
import { MAINTENANCE_QUEUE, type TaskName } from '../shared/queues/maintenance-queue.ts';
import { trimFinishedEntries } from './queue-trim.ts';
import { applyRetention } from './retention.ts';
import { createBlobBackend } from '../shared/blobs/index.ts';
import type { MailOutbox } from '../shared/mail/mail-queue.ts';
import { dispatchNotifications } from './notification-dispatch.ts';
import { watchQuotas } from './quota-watch.ts';

export type RepeatSpec = { every: number } | { pattern: string; tz?: string };

export interface TaskContext {
  runtime: Runtime;
  /** Aborted when the scheduler is closing: stop at the next safe point. */
  signal: AbortSignal;
  /** Sends first attempts of deliveries a task creates (jobs failed by reconcile). */
  dispatcher: DeliveryDispatcher;
}

export interface MaintenanceTask {
  name: TaskName;
  /** When it runs; undefined removes its schedule. */
  repeat: RepeatSpec | undefined;
  /** One process at a time (advisory lock). */
  exclusive: boolean;
  /** Does one run; the result is logged and kept on the BullMQ job. */
  run(ctx: TaskContext): Promise<Record<string, unknown>>;
}

/** Repairs Redis from PostgreSQL: re-queues jobs PostgreSQL has and Redis lost. */
export type ReconcileFn = (ctx: TaskContext) => Promise<unknown>;

/** The job pipeline's reconcile. */
const pipelineReconcile: ReconcileFn = ({ runtime, signal, dispatcher }) => reconcile(runtime, { signal, dispatcher });

export interface TaskOptions {
  /** The delivery senders' own pool (createDeliveryDb). @defaultValue runtime.db */
  deliveryDb?: Db;
  /** @defaultValue the job pipeline's reconcile */
  reconcile?: ReconcileFn;
  /** Tenant queue names to trim (the pipeline's naming). */
  tenantQueueNames?: (runtime: Runtime) => Promise<string[]>;
  /** Where notifications are queued as mail. @defaultValue none: the `notify` task is not declared */
  mail?: MailOutbox;
}

/** Notifications mailed per `notify` run; the next run carries on. */
const NOTIFY_RUN_LIMIT = 100;

/** Attempts per webhook-retry run; the next run carries on. */
const RETRY_RUN_LIMIT = 1000;
/** Finished BullMQ entries younger than this stay visible in bull-board. */
const QUEUE_KEEP_MS = DAY;

/** Every tenant's queue, named as the job pipeline names them. */
export async function defaultTenantQueueNames(runtime: Runtime): Promise<string[]> {
  const rows = await runtime.db('tenants').select<Array<{ id: string }>>('id');
  return rows.map((r) => tenantQueueName(r.id));
}

export function maintenanceTasks(runtime: Runtime, options: TaskOptions = {}): MaintenanceTask[] {
  const { config } = runtime;
  const sender = new DeliverySender({ db: options.deliveryDb ?? runtime.db, logger: runtime.logger, config, secretBox: runtime.secretBox });
  let retrying = false;
  const tasks: MaintenanceTask[] = [
    {
      name: 'webhook-retry',
      repeat: { every: config.WEBHOOK_RETRY_POLL_MS },
      exclusive: false,
      async run({ signal }) {
        // Runs in other processes help (row locks keep them apart); a second run in this process
        // would only compete with the first for the same connections.
        if (retrying) return { skipped: 'a run is in progress in this process' };
        retrying = true;
        try {
          const attempts = await sender.retryDue({ limit: RETRY_RUN_LIMIT, parallelism: config.WEBHOOK_SENDER_CONCURRENCY, signal });
          return { attempts };
        } finally {
          retrying = false;
        }
      },
    },
    {
      name: 'reconcile',
      repeat: { every: config.RECONCILE_EVERY_MS },
      exclusive: true,
      async run(ctx) {
        const result = await (options.reconcile ?? pipelineReconcile)(ctx);
        return typeof result === 'object' && result !== null ? { ...result } : { result };
      },
    },
    {
      name: 'retention',
      repeat: { every: config.RETENTION_EVERY_MS },
      exclusive: true,
      async run({ runtime: rt, signal }) {
        const deleted = await applyRetention(rt.db, { batchSize: config.RETENTION_BATCH_SIZE, signal, blobs: createBlobBackend(config) });
        const tenantQueues = await (options.tenantQueueNames ?? defaultTenantQueueNames)(rt);
        const queueEntries = await trimFinishedEntries([...tenantQueues, WEBHOOK_DELIVERY_QUEUE, MAINTENANCE_QUEUE], {
          connection: rt.redis,
          prefix: config.REDIS_PREFIX,
          keepMs: QUEUE_KEEP_MS,
          signal,
        });
        return { ...deleted, queueEntries };
      },
    },
    {
      name: 'notify',
      repeat: options.mail ? { every: config.NOTIFY_POLL_MS } : undefined,
      exclusive: false,
      async run({ runtime: rt }) {
        if (!options.mail) return { skipped: 'no mail queue' };
        return { ...(await dispatchNotifications(rt.db, options.mail, { limit: NOTIFY_RUN_LIMIT })) };
      },
    },
    {
      name: 'quota-watch',
      repeat: { every: config.QUOTA_WATCH_EVERY_MS },
      exclusive: true,
      async run({ runtime: rt }) {
        return { ...(await watchQuotas(rt.db)) };
      },
    },
    {
      name: 'backup',
      repeat: config.BACKUP_CRON.trim().toLowerCase() === 'off' ? undefined : { pattern: config.BACKUP_CRON, tz: 'UTC' },
      exclusive: true,
      async run() {
        const report = await takeBackup(config);
        return { ...report };
      },
    },
  ];
  return tasks;
}
