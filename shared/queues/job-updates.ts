/**
 * Job status and progress updates over Redis pub/sub, for whoever follows a job live (server-sent
 * events, `POST /api/lattices/path` waiting for its answer). Messages are hints: the job row in
 * PostgreSQL stays the truth, and followers re-read it (and poll it as a fallback), so a lost
 * message only delays an update.
 */
import type { Logger } from '../logger.ts';
import { duplicateRedis, type RedisClient } from '../redis.ts';
import { raiseAndPublish, raiseAndPublishMany } from './job-state-versions.ts';
import { jobChannel, type JobUpdate } from './names.ts';

/**
 * Publishes an update on the job's channel; failures are logged, never thrown. An update that
 * carries the row's new `version` raises the job's state version first (job-state-versions.ts),
 * which is what keeps other API processes' cached reads of the job honest.
 */
export async function publishJobUpdate(redis: RedisClient, prefix: string, update: JobUpdate, logger?: Logger): Promise<void> {
  try {
    if (update.version === undefined) await redis.publish(jobChannel(prefix, update.id), JSON.stringify(update));
    else await raiseAndPublish(redis, prefix, { ...update, version: update.version });
  } catch (err) {
    const level = update.version === undefined ? 'debug' : 'warn';
    logger?.[level]({ err, jobId: update.id }, 'could not publish a job update');
  }
}

/**
 * Publishes the written updates of many jobs (each with its row's new `version`), raising each
 * job's state version first, as {@link publishJobUpdate} does one by one; in one Redis call where
 * the deployment allows (job-state-versions.ts). Failures are logged, never thrown.
 */
export async function publishJobUpdates(redis: RedisClient, prefix: string, updates: ReadonlyArray<JobUpdate & { version: number }>, logger?: Logger): Promise<void> {
  try {
    await raiseAndPublishMany(redis, prefix, updates);
  } catch (err) {
    logger?.warn({ err, jobs: updates.length }, 'could not publish job updates');
  }
}

type Listener = (update: JobUpdate) => void;

/**
 * One subscriber connection per process, shared by every follower: a job's channel is
 * subscribed while someone follows it. The connection is opened on first use and closed with
 * the connection it was duplicated from.
 */
export class JobUpdateWatcher {
  private subscriber: RedisClient | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();
  /** Per followed job, the SUBSCRIBE in flight or done. */
  private readonly subscribed = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly logger?: Logger,
  ) {
    // The watcher lives as long as the connection it came from (the runtime's).
    redis.once('end', () => void this.close());
  }

  private connection(): RedisClient {
    if (!this.subscriber) {
      const subscriber = duplicateRedis(this.redis, 'catalytic:job-updates');
      subscriber.on('error', (err: Error) => this.logger?.debug({ err }, 'job update subscriber error'));
      subscriber.on('message', (channel: string, message: string) => this.deliver(channel, message));
      this.subscriber = subscriber;
    }
    return this.subscriber;
  }

  private deliver(channel: string, message: string): void {
    const jobId = channel.slice(channel.lastIndexOf(':') + 1);
    const listeners = this.listeners.get(jobId);
    if (!listeners) return;
    let update: JobUpdate;
    try {
      update = JSON.parse(message) as JobUpdate;
    } catch {
      return;
    }
    for (const listener of listeners) {
      try {
        listener(update);
      } catch (err) {
        this.logger?.error({ err, jobId }, 'job update listener failed');
      }
    }
  }

  /**
   * Follows a job. Resolves once subscribed, so a caller that reads the job row afterwards
   * cannot miss an update made after that read. Returns the function that stops following.
   */
  async watch(jobId: string, listener: Listener): Promise<() => void> {
    if (this.closed) return () => undefined;
    let set = this.listeners.get(jobId);
    if (!set) {
      set = new Set();
      this.listeners.set(jobId, set);
      this.subscribed.set(
        jobId,
        this.connection()
          .subscribe(jobChannel(this.prefix, jobId))
          .then(
            () => undefined,
            // Followers also poll the row; a failed subscription makes them slower, not wrong.
            (err: unknown) => this.logger?.debug({ err, jobId }, 'could not subscribe to job updates'),
          ),
      );
    }
    set.add(listener);
    await this.subscribed.get(jobId);
    return () => {
      const current = this.listeners.get(jobId);
      if (!current?.delete(listener) || current.size > 0) return;
      this.listeners.delete(jobId);
      this.subscribed.delete(jobId);
      if (!this.closed) void this.subscriber?.unsubscribe(jobChannel(this.prefix, jobId)).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.subscribed.clear();
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber) subscriber.disconnect();
  }
}
