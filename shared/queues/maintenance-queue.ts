/**
 * The scheduler's BullMQ queue. Each maintenance task is a job scheduler on it
 * (`upsertJobScheduler`, idempotent, so every scheduler process declares the same ones at
 * start); BullMQ hands each run to exactly one process's worker.
 */

/** Queue name under REDIS_PREFIX; the braces are its Redis Cluster hash tag. */
export const MAINTENANCE_QUEUE = '{maintenance}';

export const TASK_NAMES = ['webhook-retry', 'reconcile', 'retention', 'backup', 'notify', 'quota-watch'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** Finished runs kept for bull-board. */
export const MAINTENANCE_JOB_RETENTION = { completed: { count: 200 }, failed: { count: 1000 } };
