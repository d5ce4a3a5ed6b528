/**
 * One BullMQ Worker per tenant queue, in manual-fetch mode (no processor, no main loop): the fair
 * fetcher calls `getNextJob` on the tenant it picked. All of them share one connection and none
 * opens a blocking connection (manual fetching never blocks), so a tenant costs no socket.
 *
 * Each Worker runs BullMQ's stalled check on its queue, which puts back the jobs of a worker that
 * died (its lock expired). A process keeps Workers for the tenants it fetches from and for every
 * tenant some process recently held a job of (`{fair}:active`), so a dead worker's job is found
 * even when nobody is fetching from that tenant any more. Idle Workers are closed.
 */
import { createRedisBackend, Worker } from 'bullmq';
import type { Logger } from '../shared/logger.ts';
import { markTenantReady } from '../shared/queues/ready-set.ts';
import { tenantQueueName, type PipelineJobData } from '../shared/queues/tenant-queues.ts';
import type { RedisClient } from '../shared/redis.ts';
import { MINUTE } from '../shared/units.ts';

export type TenantWorker = Worker<PipelineJobData>;

export interface TenantWorkersOptions {
  connection: RedisClient;
  prefix: string;
  /** BullMQ lock duration, in ms. */
  lockMs: number;
  /** How often the stalled check runs per queue (across all processes), in ms. */
  stalledIntervalMs: number;
  /** A Worker unused for this long (and holding no job) is closed. @defaultValue 5 minutes */
  idleMs?: number;
  logger: Logger;
}

interface Entry {
  worker: TenantWorker;
  usedAt: number;
  /** The concurrency cap last written to the queue's meta, and when. */
  cap?: { value: number; at: number };
}

/** How often the queue's cap is re-written (it is lost if Redis is flushed). */
const CAP_REFRESH_MS = 30_000;

export class TenantWorkers {
  private readonly entries = new Map<string, Entry>();
  private readonly idleMs: number;
  private closed = false;

  constructor(private readonly options: TenantWorkersOptions) {
    this.idleMs = options.idleMs ?? 5 * MINUTE;
  }

  /** The tenant's Worker, created (with its stalled check started) on first use. */
  get(tenantId: string): TenantWorker {
    const entry = this.entry(tenantId);
    entry.usedAt = Date.now();
    return entry.worker;
  }

  private entry(tenantId: string): Entry {
    let entry = this.entries.get(tenantId);
    if (entry) return entry;
    const { connection, prefix, lockMs, stalledIntervalMs, logger } = this.options;
    const worker = new Worker<PipelineJobData>(
      tenantQueueName(tenantId),
      null,
      {
        connection,
        prefix,
        autorun: false,
        lockDuration: lockMs,
        stalledInterval: stalledIntervalMs,
        // The job row counts attempts and decides when a job that keeps losing its worker fails;
        // BullMQ must not fail it on its own.
        maxStalledCount: 1_000_000,
        skipVersionCheck: true,
      },
      // Manual fetching never blocks: no dedicated blocking connection per tenant.
      (name, opts, factoryOptions) => createRedisBackend(name, opts, { ...factoryOptions, withBlockingConnection: false }),
    );
    worker.on('error', (err) => logger.warn({ err, tenantId }, 'tenant queue worker error'));
    worker.on('stalled', (jobId) => {
      logger.warn({ jobId, tenantId }, 'job stalled (its worker stopped renewing the lock); back in its queue');
      // The job waits in its queue again: make sure fetchers visit the tenant.
      markTenantReady(connection, prefix, tenantId, 0).catch((err: unknown) => logger.warn({ err, tenantId }, 'could not mark tenant ready'));
    });
    void worker.startStalledCheckTimer().catch((err: unknown) => logger.warn({ err, tenantId }, 'could not start the stalled check'));
    entry = { worker, usedAt: Date.now() };
    this.entries.set(tenantId, entry);
    return entry;
  }

  /** Makes sure these tenants have a Worker (so their queues get stalled checks). */
  ensure(tenantIds: Iterable<string>): void {
    if (this.closed) return;
    for (const id of tenantIds) this.entry(id).usedAt = Date.now();
  }

  /**
   * Writes the tenant's concurrency cap (plan's max concurrent jobs, -1 = none) into its queue,
   * where BullMQ's fetch script enforces it atomically across every worker process. Written again
   * when it changes and every 30 s (a flushed Redis loses it).
   */
  async applyCap(tenantId: string, cap: number): Promise<void> {
    const entry = this.entry(tenantId);
    if (entry.cap && entry.cap.value === cap && Date.now() - entry.cap.at < CAP_REFRESH_MS) return;
    const meta = `${this.options.prefix}:${tenantQueueName(tenantId)}:meta`;
    if (cap >= 0) await this.options.connection.hset(meta, 'concurrency', cap);
    else await this.options.connection.hdel(meta, 'concurrency');
    entry.cap = { value: cap, at: Date.now() };
  }

  /** Closes Workers idle for a while, except those of `keep` (tenants with jobs in hand). */
  async sweep(keep: ReadonlySet<string>): Promise<void> {
    const cutoff = Date.now() - this.idleMs;
    const idle = [...this.entries].filter(([id, e]) => e.usedAt < cutoff && !keep.has(id));
    for (const [id] of idle) this.entries.delete(id);
    await Promise.allSettled(idle.map(([, e]) => e.worker.close()));
  }

  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.entries.values()].map((e) => e.worker);
    this.entries.clear();
    await Promise.allSettled(workers.map((w) => w.close()));
  }
}
