/**
 * Names of everything the job pipeline keeps in Redis, all under `REDIS_PREFIX`.
 *
 * Each tenant has its own BullMQ queue named `{t.<tenantId>}`. BullMQ builds every key of a queue
 * as `<prefix>:<queue name>:<suffix>`, so the braces make `t.<tenantId>` the Redis Cluster hash
 * tag of all of that queue's keys: one tenant's queue lives in one slot (BullMQ's Lua scripts
 * need that), and different tenants spread over the cluster.
 *
 * The cross-tenant bookkeeping of the fair fetcher lives under the `{fair}` hash tag, so those
 * keys share one slot and can be updated together by one script.
 */

/** Prefix of tenant queue names; the whole name is `{t.<tenantId>}`. */
export const TENANT_QUEUE_TAG = 't.';

const TENANT_QUEUE_NAME = /^\{t\.([0-9a-fA-F-]{36})\}$/;

/** The BullMQ queue name of a tenant. */
export function tenantQueueName(tenantId: string): string {
  return `{${TENANT_QUEUE_TAG}${tenantId}}`;
}

/** The tenant of a queue name made by {@link tenantQueueName}, or undefined for any other name. */
export function tenantOfQueueName(name: string): string | undefined {
  return TENANT_QUEUE_NAME.exec(name)?.[1];
}

/** A key of a tenant's BullMQ queue, e.g. `tenantQueueKey('catalytic', id, 'wait')`. */
export function tenantQueueKey(prefix: string, tenantId: string, suffix: string): string {
  return `${prefix}:${tenantQueueName(tenantId)}:${suffix}`;
}

/** Keys of the fair fetcher's shared state (one hash tag, one slot). */
export interface FairKeys {
  /**
   * ZSET tenant id → earliest time (ms) the tenant may have a runnable job: 0 when it has
   * waiting jobs now, a future time when it only has delayed (retrying) jobs. Workers visit the
   * members whose score is due.
   */
  ready: string;
  /**
   * ZSET tenant id → last time (ms) a worker held one of its jobs. Workers run BullMQ's stalled
   * check for these tenants, so a job whose worker died goes back to its queue even when no
   * worker is fetching from that tenant.
   */
  active: string;
  /** SET of every tenant that ever had a job queued: the queues operators and reconcile look at. */
  queues: string;
}

export function fairKeys(prefix: string): FairKeys {
  return {
    ready: `${prefix}:{fair}:ready`,
    active: `${prefix}:{fair}:active`,
    queues: `${prefix}:{fair}:queues`,
  };
}

/** Channels of the pipeline's pub/sub messages. */
export interface PipelineChannels {
  /** A tenant went from no runnable work to some: idle workers wake up. Message: tenant id. */
  wake: string;
  /** Cancel a running job wherever it runs. Message: job id. */
  cancel: string;
}

export function pipelineChannels(prefix: string): PipelineChannels {
  return { wake: `${prefix}:pipeline:wake`, cancel: `${prefix}:pipeline:cancel` };
}

/** Channel of one job's status and progress updates (JSON {@link JobUpdate} messages). */
export function jobChannel(prefix: string, jobId: string): string {
  return `${prefix}:job:${jobId}`;
}

/**
 * Key of one job's state version in Redis: the highest `jobs.state_version` any process has
 * written or read (docs/architecture.md › Job reads and the job-state cache).
 */
export function jobStateVersionKey(prefix: string, jobId: string): string {
  return `${prefix}:jobv:${jobId}`;
}

/** What a worker publishes on a job's channel when its status or progress changes. */
export interface JobUpdate {
  id: string;
  status: string;
  progress: number;
  /** The row's `state_version` after the change, when the change was written to PostgreSQL. */
  version?: number;
}
