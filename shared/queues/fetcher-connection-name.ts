/**
 * The Redis client name of a worker process's fetch connection. The fair fetcher takes jobs from
 * every tenant queue through one shared connection, so it cannot carry BullMQ's per-queue worker
 * name (`<prefix>:<base64 queue>:w:<name>`); the queue board counts connections with this name as
 * workers of every tenant queue instead. The part after `:w:` is what the board shows.
 */
import { hostname } from 'node:os';

/** BullMQ's separator before a worker's own name; bull-board shows what follows it. */
const WORKER_NAME_SEPARATOR = ':w:';

const namePrefix = (redisPrefix: string) => `${redisPrefix}:fair-fetcher${WORKER_NAME_SEPARATOR}`;

/** The fetch connection's name for this process: `<prefix>:fair-fetcher:w:<host>-<pid>`. */
export function fetcherConnectionName(redisPrefix: string): string {
  return `${namePrefix(redisPrefix)}${hostname()}-${process.pid}`;
}

/** True when a Redis client name is the fetch connection of a worker under this key prefix. */
export function isFetcherConnectionName(redisPrefix: string, name: string): boolean {
  return name.startsWith(namePrefix(redisPrefix));
}
