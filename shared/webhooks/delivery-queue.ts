/**
 * The BullMQ queue of first delivery attempts. A job is only a pointer (`deliveryId`, also the
 * job id, so dispatching twice is harmless); the delivery row stays the truth, and the
 * scheduler's webhook-retry job finds anything this queue loses.
 */
import { Queue, type QueueOptions } from 'bullmq';
import type { Config } from '../config.ts';
import type { RedisClient } from '../redis.ts';

/**
 * Queue name under REDIS_PREFIX (bull-board shows it with the tenant queues). The braces make it
 * the Redis Cluster hash tag of all the queue's keys, as BullMQ's scripts need.
 */
export const WEBHOOK_DELIVERY_QUEUE = '{webhook-deliveries}';

/** Payload of a delivery job. */
export interface DeliveryJobData {
  deliveryId: string;
}

/** Finished entries kept for bull-board; the delivery rows hold the real history. */
export const DELIVERY_JOB_RETENTION = { completed: { count: 1000, age: 24 * 3600 }, failed: { count: 5000, age: 7 * 24 * 3600 } };

export function deliveryQueueOptions(config: Pick<Config, 'REDIS_PREFIX'>, connection: RedisClient): QueueOptions {
  return {
    connection,
    prefix: config.REDIS_PREFIX,
    defaultJobOptions: {
      // The row decides retries (with its own schedule); a failed job means the attempt could
      // not even be recorded, and the scheduler retries it from the row.
      attempts: 1,
      removeOnComplete: DELIVERY_JOB_RETENTION.completed,
      removeOnFail: DELIVERY_JOB_RETENTION.failed,
    },
  };
}

/** Opens the delivery queue on a shared connection (closing the queue leaves the connection open). */
export function openDeliveryQueue(config: Pick<Config, 'REDIS_PREFIX'>, connection: RedisClient): Queue<DeliveryJobData> {
  return new Queue<DeliveryJobData>(WEBHOOK_DELIVERY_QUEUE, deliveryQueueOptions(config, connection));
}
