/**
 * Sends the mail queue's messages. It runs in the scheduler role: the worker role's slots belong
 * to tenants' compute jobs under fair fetching, and a slow SMTP server must never hold one; the
 * scheduler already runs the other outbound retries (webhooks) and scales to as many processes
 * as needed (BullMQ hands each message to one of them). A transient failure (connection, 4xx) is
 * retried with exponential backoff (MAIL_MAX_ATTEMPTS, MAIL_RETRY_BASE_MS); a 5xx answer is final.
 */
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { publicUrl } from '../shared/config.ts';
import { MAIL_QUEUE, type MailJobData } from '../shared/mail/mail-queue.ts';
import { isPermanentMailError, type MailTransport, createMailTransport } from '../shared/mail/transport.ts';
import { renderMail } from '../shared/mail/templates.ts';
import { closeRedis, createRedisFromConfig, type RedisClient } from '../shared/redis.ts';
import type { Runtime } from '../shared/runtime.ts';
import { once, type Service } from '../shared/service.ts';

export class MailSender implements Service {
  readonly name = 'mail-sender';
  private worker: Worker<MailJobData> | undefined;
  private connection: RedisClient | undefined;
  private readonly transport: MailTransport;

  constructor(private readonly runtime: Runtime) {
    this.transport = createMailTransport(runtime.config, runtime.logger);
  }

  async start(): Promise<void> {
    const { config, logger } = this.runtime;
    if (config.MAIL_TRANSPORT === 'off') {
      logger.warn('mail is off (no SMTP_URL): password resets, invitations and notifications are not sent');
      return;
    }
    this.connection = createRedisFromConfig(config, 'catalytic:mail', 'blocking');
    const worker = new Worker<MailJobData>(MAIL_QUEUE, (job) => this.send(job), {
      connection: this.connection,
      prefix: config.REDIS_PREFIX,
      concurrency: config.MAIL_SEND_CONCURRENCY,
      autorun: false,
    });
    worker.on('error', (err) => logger.warn({ err }, 'mail sender: worker error'));
    worker.on('failed', (job, err) => {
      // Never the parameters: they may hold a one-time token.
      const final = job !== undefined && (job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError);
      logger[final ? 'error' : 'warn']({ err, template: job?.data.template, attempt: job?.attemptsMade }, final ? 'mail given up' : 'mail attempt failed; will retry');
    });
    this.worker = worker;
    void worker.run().catch((err: unknown) => logger.error({ err }, 'mail sender stopped'));
    await worker.waitUntilReady();
  }

  private async send(job: Job<MailJobData>): Promise<void> {
    const { template, to, params } = job.data;
    let message;
    try {
      message = renderMail(template, to, params, publicUrl(this.runtime.config));
    } catch (err) {
      throw new UnrecoverableError(`mail template ${template} could not be rendered: ${(err as Error).message}`);
    }
    try {
      await this.transport.send(message);
    } catch (err) {
      if (isPermanentMailError(err)) throw new UnrecoverableError(`the mail server refused the message: ${(err as Error).message}`);
      throw err;
    }
    this.runtime.logger.debug({ template }, 'mail sent');
  }

  readonly close = once(async () => {
    try {
      await this.worker?.close();
    } catch (err) {
      this.runtime.logger.warn({ err }, 'mail sender: closing the worker failed');
    }
    this.transport.close();
    if (this.connection) await closeRedis(this.connection);
  });
}
