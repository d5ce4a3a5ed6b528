/**
 * The mail queue: the API (and the scheduler's own tasks) add a message as a BullMQ job; the
 * scheduler role sends it (`scheduler/mail-sender.ts`) with retries, so no request waits for an
 * SMTP server. A job holds the template name, the recipient and the parameters — one-time tokens
 * included — and lives only in Redis, removed as soon as it is sent or given up: PostgreSQL and
 * its backups never hold a link.
 */
import { Queue } from 'bullmq';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { RedisClient } from '../redis.ts';
import type { MailParams, MailTemplate } from './templates.ts';

/** Queue name under REDIS_PREFIX; the braces are its Redis Cluster hash tag. */
export const MAIL_QUEUE = '{mail}';

/** Payload of a mail job. */
export interface MailJobData {
  template: MailTemplate;
  to: string;
  params: Record<string, string>;
}

/** Adds messages to the mail queue. */
export class MailOutbox {
  private readonly queue: Queue<MailJobData> | undefined;

  constructor(
    private readonly config: Pick<Config, 'REDIS_PREFIX' | 'MAIL_TRANSPORT' | 'MAIL_MAX_ATTEMPTS' | 'MAIL_RETRY_BASE_MS'>,
    connection: RedisClient,
    private readonly logger: Logger,
  ) {
    if (config.MAIL_TRANSPORT === 'off') return;
    this.queue = new Queue<MailJobData>(MAIL_QUEUE, {
      connection,
      prefix: config.REDIS_PREFIX,
      defaultJobOptions: {
        attempts: config.MAIL_MAX_ATTEMPTS,
        backoff: { type: 'exponential', delay: config.MAIL_RETRY_BASE_MS },
        // The payload may hold a one-time token: nothing is kept once the job is over.
        removeOnComplete: true,
        removeOnFail: true,
      },
    });
    this.queue.on('error', (err) => logger.warn({ err }, 'mail queue error'));
  }

  /**
   * Queues one message. With MAIL_TRANSPORT=off it is dropped, with a warning that names no link.
   * `jobId` makes queuing idempotent: a message with the id of one still waiting is not added again.
   */
  async send<T extends MailTemplate>(template: T, to: string, params: MailParams<T>, options: { jobId?: string } = {}): Promise<void> {
    if (!this.queue) {
      this.logger.warn({ template }, 'mail not sent: MAIL_TRANSPORT is off (set SMTP_URL)');
      return;
    }
    await this.queue.add(template, { template, to, params }, options.jobId ? { jobId: options.jobId } : {});
  }

  async close(): Promise<void> {
    await this.queue?.close();
  }
}
