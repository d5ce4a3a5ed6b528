/**
 * The worker role's webhook sender: consumes the delivery queue and makes each delivery's first
 * attempt at once. Retries are the scheduler's (webhook-retry), from the rows.
 */
import { Worker } from 'bullmq';
import type { Db } from '../shared/db.ts';
import type { Runtime } from '../shared/runtime.ts';
import { closeRedis, createRedisFromConfig, type RedisClient } from '../shared/redis.ts';
import { once, type Service } from '../shared/service.ts';
import { createDeliveryDb } from '../shared/webhooks/delivery-db.ts';
import { type DeliveryJobData, WEBHOOK_DELIVERY_QUEUE } from '../shared/webhooks/delivery-queue.ts';
import { DeliverySender, type DeliverySenderOptions } from '../shared/webhooks/delivery-sender.ts';

export class WebhookSenderService implements Service {
  readonly name = 'webhook-sender';
  private worker: Worker<DeliveryJobData> | undefined;
  private connection: RedisClient | undefined;
  private readonly sender: DeliverySender;
  private readonly db: Db;

  constructor(
    private readonly runtime: Runtime,
    senderOptions: Partial<DeliverySenderOptions> = {},
  ) {
    this.db = createDeliveryDb(runtime.config, 'catalytic:webhook-sender');
    this.sender = new DeliverySender({ db: this.db, logger: runtime.logger, config: runtime.config, secretBox: runtime.secretBox, ...senderOptions });
  }

  async start(): Promise<void> {
    const { config, logger } = this.runtime;
    this.connection = createRedisFromConfig(config, 'catalytic:webhook-sender', 'blocking');
    const worker = new Worker<DeliveryJobData>(
      WEBHOOK_DELIVERY_QUEUE,
      async (job) => {
        const report = await this.sender.attemptIfDue(job.data.deliveryId);
        return report ? { outcome: report.outcome, statusCode: report.statusCode } : { outcome: 'not_due' };
      },
      {
        connection: this.connection,
        prefix: config.REDIS_PREFIX,
        concurrency: config.WEBHOOK_SENDER_CONCURRENCY,
        // An attempt takes at most WEBHOOK_TIMEOUT_MS; the lock outlives it with room to spare.
        lockDuration: Math.max(30_000, 3 * config.WEBHOOK_TIMEOUT_MS),
        autorun: false,
      },
    );
    // A listener must exist, or a Redis hiccup would crash the process; it must not throw.
    worker.on('error', (err) => logger.warn({ err }, 'webhook sender: queue error'));
    worker.on('failed', (job, err) =>
      logger.warn({ err, deliveryId: job?.data.deliveryId }, 'webhook first attempt failed to run; the scheduler will retry'),
    );
    this.worker = worker;
    void worker.run().catch((err: unknown) => logger.error({ err }, 'webhook sender stopped'));
    await worker.waitUntilReady();
  }

  readonly close = once(async () => {
    try {
      // Waits for attempts in flight (each bounded by WEBHOOK_TIMEOUT_MS).
      await this.worker?.close();
    } catch (err) {
      this.runtime.logger.warn({ err }, 'webhook sender: close failed');
    }
    if (this.connection) await closeRedis(this.connection);
    await this.db.destroy();
  });
}
