/**
 * The connection pool of the worker's and the scheduler's delivery senders, apart from the pool
 * that serves job and API work. An attempt holds a connection only for its short claim and record
 * transactions, never while it waits for an endpoint, so two connections serve any number of
 * attempts in flight; being separate, even a burst of claims never queues behind request handling
 * or the job pipeline, nor they behind it.
 */
import type { Config } from '../config.ts';
import { createDb, type Db } from '../db.ts';

/** Connections of a delivery pool. */
export const DELIVERY_POOL_MAX = 2;

export function createDeliveryDb(config: Pick<Config, 'DATABASE_URL'>, applicationName: string): Db {
  return createDb({ url: config.DATABASE_URL, poolMin: 0, poolMax: DELIVERY_POOL_MAX, applicationName });
}
