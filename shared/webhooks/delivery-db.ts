/**
 * The connection pool delivery attempts use. An attempt holds its delivery's row lock, and so a
 * connection, while it waits for the endpoint (up to WEBHOOK_TIMEOUT_MS); a pool of their own
 * keeps slow or dead endpoints from starving the job pipeline or maintenance of connections.
 */
import { type Config, ownerDatabaseUrl } from '../config.ts';
import { createDb, type Db } from '../db.ts';

export function createDeliveryDb(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_OWNER_URL' | 'WEBHOOK_SENDER_CONCURRENCY'>, applicationName: string): Db {
  // One connection per attempt in flight, and one for the endpoint updates of a recording attempt.
  return createDb({ url: ownerDatabaseUrl(config), poolMin: 0, poolMax: config.WEBHOOK_SENDER_CONCURRENCY + 1, applicationName });
}
