/**
 * Keeps the jobs a worker holds alive, every third of the lock time: extends their locks,
 * records the heartbeat in their rows (and picks up cancel flags a lost message missed),
 * advertises their tenants for stalled checks, and keeps Workers for tenants other processes
 * hold jobs of.
 */
import type { Db } from '../shared/db.ts';
import { touchRunningJobs } from '../shared/jobs/transitions.ts';
import type { Logger } from '../shared/logger.ts';
import { recentlyActiveTenants, touchActiveTenants } from '../shared/queues/ready-set.ts';
import type { RedisClient } from '../shared/redis.ts';
import type { HeldJob } from './job-runner.ts';
import type { TenantWorkers } from './tenant-workers.ts';

export interface LockKeeperOptions {
  db: Db;
  logger: Logger;
  connection: RedisClient;
  prefix: string;
  tenants: TenantWorkers;
  /** `JOB_LOCK_MS`. */
  lockMs: number;
  /** How often BullMQ's stalled check runs, in ms. */
  stalledIntervalMs: number;
  /** The jobs this process holds, by token (owned by the pipeline, read here). */
  held: ReadonlyMap<string, HeldJob>;
  /** Stops a held job whose row asks for a cancel. */
  cancel: (jobId: string) => void;
}

/** Smallest interval of the keeper, in ms. */
const MIN_INTERVAL_MS = 200;

export class LockKeeper {
  readonly intervalMs: number;
  /** When this process last advertised each tenant in `{fair}:active`. */
  private readonly advertised = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private keeping: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: LockKeeperOptions) {
    this.intervalMs = Math.max(MIN_INTERVAL_MS, Math.floor(options.lockMs / 3));
  }

  start(): void {
    this.timer = setTimeout(() => {
      this.keeping = this.keep()
        .catch((err: unknown) => this.options.logger.warn({ err }, 'renewing job locks failed'))
        .finally(() => {
          this.keeping = undefined;
          if (!this.stopped) this.start();
        });
    }, this.intervalMs);
  }

  /** Stops the keeper, after its round in progress if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.keeping;
  }

  /**
   * Advertises a tenant whose job this process is about to hold, before the job can start, not
   * at the keeper's next tick: if this process dies within that tick, other workers must still
   * run the stalled check on the tenant's queue. Once per interval per tenant is enough (the
   * entry stays fresh that long). A failure is logged: the next round advertises it again.
   */
  async advertise(tenantId: string): Promise<void> {
    const { connection, prefix, logger } = this.options;
    const now = Date.now();
    if (now - (this.advertised.get(tenantId) ?? 0) < this.intervalMs) return;
    await touchActiveTenants(connection, prefix, [tenantId], now).then(
      () => this.advertised.set(tenantId, now),
      (err: unknown) => logger.warn({ err, tenantId }, 'could not advertise a held job; the lock keeper will retry'),
    );
  }

  private async keep(): Promise<void> {
    const { db, logger, connection, prefix, tenants, lockMs, stalledIntervalMs } = this.options;
    const held = [...this.options.held.values()];
    const byTenant = new Map<string, HeldJob[]>();
    for (const job of held) byTenant.set(job.tenantId, [...(byTenant.get(job.tenantId) ?? []), job]);
    for (const [tenantId, jobs] of byTenant) {
      const failed = await tenants.get(tenantId).extendJobLocks(
        jobs.map((j) => j.id),
        jobs.map((j) => j.token),
        lockMs,
      );
      const now = Date.now();
      for (const job of jobs) if (!failed.includes(job.id)) job.lockedAt = now;
      // A job that finished meanwhile has no lock left to renew; only the others matter.
      const lost = jobs.filter((j) => failed.includes(j.id) && this.options.held.has(j.token)).map((j) => j.id);
      if (lost.length > 0) logger.warn({ tenantId, jobIds: lost }, 'could not renew job locks (another worker may run them)');
    }
    // A chunk's heartbeat goes to the rows it runs; a single job's to its own row once started.
    const running = held.flatMap((j) => (j.rowIds ? [...j.rowIds] : j.attempt !== undefined ? [j.id] : []));
    for (const jobId of await touchRunningJobs(db, running)) this.options.cancel(jobId);
    const now = Date.now();
    await touchActiveTenants(connection, prefix, byTenant.keys(), now);
    this.advertised.clear();
    for (const tenantId of byTenant.keys()) this.advertised.set(tenantId, now);
    const window = 3 * lockMs + 2 * stalledIntervalMs;
    tenants.ensure(await recentlyActiveTenants(connection, prefix, now - window));
    await tenants.sweep(new Set(byTenant.keys()));
  }
}
