/**
 * The queues operators look at: one BullMQ queue per tenant plus the system queues (webhook
 * deliveries, the scheduler's maintenance runs). bull-board and the queue-depth metrics read it. The list is rebuilt from the
 * tenants table when asked (at most every `refreshMs`), so a tenant's queue appears as soon as
 * the tenant exists, without a restart. Queue objects are cached and share the runtime's Redis
 * connection, so a refresh costs one small query and no new connections.
 */
import { Queue } from 'bullmq';
import { MAINTENANCE_QUEUE } from './queues/maintenance-queue.ts';
import { openTenantQueue } from './queues/tenant-queues.ts';
import type { Runtime } from './runtime.ts';
import { openDeliveryQueue } from './webhooks/delivery-queue.ts';

/** A queue and what operators need to know about it. */
export interface CatalogQueue {
  queue: Queue;
  /** Bounded kind label for metrics: `tenant`, or a system queue's kind (`webhooks`, `maintenance`). */
  kind: string;
  /** The tenant's plan; `none` for system queues. */
  plan: string;
  /** What bull-board lists the queue as (tenant name and plan; the queue name for system queues). */
  displayName: string;
  /** Shown under the name in bull-board. */
  description: string;
}

/** Opens BullMQ queues; the job pipeline and webhook modules decide names and prefixes. */
export interface QueueOpeners {
  tenantQueue(tenantId: string): Queue;
  /** System queues by kind (e.g. `webhooks`), opened once. */
  systemQueues(): Array<{ kind: string; queue: Queue; description: string }>;
}

export interface QueueCatalogOptions {
  /**
   * Minimum time between two reads of the tenants table.
   * @defaultValue 2000
   */
  refreshMs?: number;
}

interface TenantRow {
  id: string;
  name: string;
  plan_code: string;
  status: string;
}

export class QueueCatalog {
  private readonly tenantQueues = new Map<string, Queue>();
  private system: CatalogQueue[] | undefined;
  private current: CatalogQueue[] = [];
  private refreshedAt = 0;
  private refreshing: Promise<CatalogQueue[]> | undefined;
  private readonly refreshMs: number;
  private closed = false;

  constructor(
    private readonly runtime: Runtime,
    private readonly openers: QueueOpeners,
    options: QueueCatalogOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? 2000;
  }

  /** The current queues, re-reading the tenants when the last read is older than `refreshMs`. */
  list(): Promise<CatalogQueue[]> {
    if (this.closed) return Promise.resolve([]);
    if (Date.now() - this.refreshedAt < this.refreshMs) return Promise.resolve(this.current);
    this.refreshing ??= this.refresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async refresh(): Promise<CatalogQueue[]> {
    // Through the definer function: the API's pool cannot read across tenants otherwise.
    const { rows: tenants } = await this.runtime.db.raw<{ rows: TenantRow[] }>(
      'select id, name, plan_code, status from catalytic_tenant_directory() order by created_at',
    );
    this.system ??= this.openers
      .systemQueues()
      .map((q) => ({ ...q, queue: this.watch(q.queue), plan: 'none', displayName: q.queue.name }));
    const seen = new Set<string>();
    const entries: CatalogQueue[] = [];
    for (const tenant of tenants) {
      seen.add(tenant.id);
      let queue = this.tenantQueues.get(tenant.id);
      if (!queue) {
        queue = this.watch(this.openers.tenantQueue(tenant.id));
        this.tenantQueues.set(tenant.id, queue);
      }
      const status = tenant.status === 'active' ? '' : `, ${tenant.status}`;
      entries.push({
        queue,
        kind: 'tenant',
        plan: tenant.plan_code,
        displayName: `${tenant.name} (${tenant.plan_code}${status})`,
        description: `tenant ${tenant.id}, queue ${queue.name}`,
      });
    }
    // Deleted tenants: their queue leaves the board and its object is released.
    for (const [tenantId, queue] of this.tenantQueues) {
      if (seen.has(tenantId)) continue;
      this.tenantQueues.delete(tenantId);
      void queue.close().catch(() => undefined);
    }
    this.current = [...entries, ...this.system];
    this.refreshedAt = Date.now();
    return this.current;
  }

  /** A queue's 'error' event must have a listener, or a Redis hiccup would crash the process. */
  private watch(queue: Queue): Queue {
    queue.on('error', (err) => this.runtime.logger.debug({ err, queue: queue.name }, 'queue connection error'));
    return queue;
  }

  /** Releases every queue object (the shared Redis connection stays open). */
  async close(): Promise<void> {
    this.closed = true;
    await this.refreshing?.catch(() => undefined);
    const queues = [...this.tenantQueues.values(), ...(this.system ?? []).map((s) => s.queue)];
    this.tenantQueues.clear();
    this.system = undefined;
    this.current = [];
    await Promise.allSettled(queues.map((q) => q.close()));
  }
}

/**
 * Queues as the job pipeline, webhook delivery and the scheduler name them, on the runtime's
 * command connection.
 */
export function defaultQueueOpeners(runtime: Runtime): QueueOpeners {
  const { config, redis } = runtime;
  return {
    tenantQueue: (tenantId) => openTenantQueue(redis, config.REDIS_PREFIX, tenantId),
    systemQueues: () => [
      { kind: 'webhooks', queue: openDeliveryQueue(config, redis), description: 'Webhook deliveries (first attempts)' },
      {
        kind: 'maintenance',
        queue: new Queue(MAINTENANCE_QUEUE, { connection: redis, prefix: config.REDIS_PREFIX }),
        description: 'Scheduler runs: webhook retries, reconcile, retention, backups',
      },
    ],
  };
}

const catalogs = new WeakMap<Runtime, QueueCatalog>();

/**
 * The catalog of a runtime, created on first use with the default openers: one per process
 * even when the API and the scheduler share a runtime (`catalytic all`).
 */
export function queueCatalogFor(runtime: Runtime): QueueCatalog {
  let catalog = catalogs.get(runtime);
  if (!catalog) {
    catalog = new QueueCatalog(runtime, defaultQueueOpeners(runtime));
    catalogs.set(runtime, catalog);
  }
  return catalog;
}
