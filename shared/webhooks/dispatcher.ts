/**
 * Dispatches first attempts of new deliveries to the worker role's delivery queue, after the
 * transaction that created them has committed. Dispatching never fails the caller: if Redis is
 * unreachable the rows are still pending and the scheduler's webhook-retry job sends them.
 */
import type { Queue } from 'bullmq';
import type { Runtime } from '../runtime.ts';
import { type DeliveryJobData, openDeliveryQueue } from './delivery-queue.ts';
import type { DeliveryDispatcher } from './job-events.ts';

export interface WebhookDispatcher extends DeliveryDispatcher {
  /** Releases the queue object (the runtime's Redis connection stays open). */
  close(): Promise<void>;
}

export function createWebhookDispatcher(runtime: Pick<Runtime, 'config' | 'redis' | 'logger'>): WebhookDispatcher {
  let queue: Queue<DeliveryJobData> | undefined;
  const open = () => {
    if (!queue) {
      queue = openDeliveryQueue(runtime.config, runtime.redis);
      queue.on('error', (err) => runtime.logger.debug({ err }, 'webhook delivery queue error'));
    }
    return queue;
  };
  return {
    async dispatch(deliveryIds) {
      if (deliveryIds.length === 0) return;
      try {
        await open().addBulk(deliveryIds.map((deliveryId) => ({ name: 'deliver', data: { deliveryId }, opts: { jobId: deliveryId } })));
      } catch (err) {
        runtime.logger.warn({ err, deliveryIds }, 'could not queue webhook deliveries; the scheduler will send them');
      }
    },
    async close() {
      const q = queue;
      queue = undefined;
      await q?.close().catch(() => undefined);
    },
  };
}
