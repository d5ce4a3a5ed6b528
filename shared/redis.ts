/**
 * ioredis connections, to one Redis (`REDIS_URL`) or to a Redis Cluster (`REDIS_CLUSTER_NODES`),
 * made for one of three purposes: `blocking`, `commands` or `probe`, with {@link duplicateRedis} for
 * pub/sub and {@link scanKeys} for key scans.
 * See docs/architecture.md › Redis keys and Redis Cluster.
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.ts';

export { Cluster, Redis };

/** A connection to one Redis or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

export type RedisPurpose = 'blocking' | 'commands' | 'probe';

export interface RedisFactoryOptions {
  /** Shown in `CLIENT LIST` so operators can tell roles apart. */
  connectionName?: string;
  /** @defaultValue 'commands' */
  purpose?: RedisPurpose;
}

const PURPOSE_OPTIONS: Record<RedisPurpose, RedisOptions> = {
  blocking: { maxRetriesPerRequest: null },
  commands: { maxRetriesPerRequest: 2, connectTimeout: 5000 },
  probe: { maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 3000 },
};

/** Reconnect for ever with a capped backoff: Redis restarts (and failovers) are routine. */
const reconnectDelay = (attempt: number): number => Math.min(100 * 2 ** Math.min(attempt, 5), 3000);

export function createRedis(url: string, options: RedisFactoryOptions = {}): Redis {
  const redis = new Redis(url, {
    connectionName: options.connectionName,
    enableReadyCheck: true,
    retryStrategy: reconnectDelay,
    ...PURPOSE_OPTIONS[options.purpose ?? 'commands'],
  });
  // Failures surface through health checks and the operations that fail; an unhandled 'error'
  // event would otherwise crash the process.
  redis.on('error', () => undefined);
  return redis;
}

/** `host:port` seeds from a comma-separated list (REDIS_CLUSTER_NODES). */
export function parseClusterNodes(seeds: string): Array<{ host: string; port: number }> {
  const nodes = seeds
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((seed) => {
      const at = seed.lastIndexOf(':');
      const host = at > 0 ? seed.slice(0, at) : seed;
      const port = at > 0 ? Number(seed.slice(at + 1)) : 6379;
      if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`REDIS_CLUSTER_NODES: bad port in "${seed}"`);
      return { host: host.replace(/^\[|\]$/g, ''), port };
    });
  if (nodes.length === 0) throw new Error('REDIS_CLUSTER_NODES: no host:port given');
  return nodes;
}

export interface RedisClusterFactoryOptions extends RedisFactoryOptions {
  /** Username, password and TLS for every node, taken from this URL (REDIS_URL) when it has them. */
  credentialsUrl?: string;
}

/** Node options that come from the credentials URL: user, password, TLS. */
function credentialOptions(url: string | undefined): RedisOptions {
  if (!url) return {};
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * A Redis Cluster client from `host:port` seeds. Per purpose like {@link createRedis}; the cluster
 * client reconnects and follows failovers by itself (a command that meets a failover waits for the
 * new primary, up to `maxRedirections` tries).
 */
export function createRedisCluster(seeds: string, options: RedisClusterFactoryOptions = {}): Cluster {
  const purpose = options.purpose ?? 'commands';
  const { enableOfflineQueue, ...nodeOptions } = PURPOSE_OPTIONS[purpose];
  const clusterOptions: ClusterOptions = {
    enableReadyCheck: true,
    clusterRetryStrategy: reconnectDelay,
    // A failover takes a few node timeouts; commands retry meanwhile instead of failing at once.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    redisOptions: { connectionName: options.connectionName, ...credentialOptions(options.credentialsUrl), ...nodeOptions },
  };
  const cluster = new Cluster(parseClusterNodes(seeds), clusterOptions);
  cluster.on('error', () => undefined);
  return cluster;
}

/** A connection for `purpose`: to the cluster when REDIS_CLUSTER_NODES is set, else to REDIS_URL. */
export function createRedisFromConfig(
  config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>,
  connectionName: string,
  purpose: RedisPurpose = 'commands',
): RedisClient {
  if (config.REDIS_CLUSTER_NODES) {
    return createRedisCluster(config.REDIS_CLUSTER_NODES, { connectionName, purpose, credentialsUrl: config.REDIS_URL });
  }
  return createRedis(config.REDIS_URL, { connectionName, purpose });
}

/** True for a Redis Cluster client. */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/**
 * A new connection like `client` (same nodes and options) under another name: for a subscriber,
 * which cannot share a connection with commands, or commands of their own ({@link perTurnCopy}).
 * It has its own 'error' listener.
 */
export function duplicateRedis(client: RedisClient, connectionName: string): RedisClient {
  const copy = isCluster(client)
    ? client.duplicate(undefined, { redisOptions: { ...client.options.redisOptions, connectionName } })
    : client.duplicate({ connectionName });
  copy.on('error', () => undefined);
  return copy;
}

/**
 * A new connection like `client`, of its own, whose commands of one turn of the event loop leave
 * in one socket write ({@link writeCommandsPerTurn}; on a Redis Cluster a plain copy). Not ioredis's
 * `enableAutoPipelining`, which batches the same way but has thrown from its pipeline callback,
 * uncaught, when its connection closed (ioredis issue 1931; seen here in the worker's tests), and on
 * a cluster routes EVALSHA by its first argument (issue 2109).
 */
export function perTurnCopy(client: RedisClient, connectionName: string): RedisClient {
  const copy = duplicateRedis(client, connectionName);
  writeCommandsPerTurn(copy);
  return copy;
}

/**
 * Every key matching `pattern`, scanned in batches (on every primary of a cluster; SCAN and KEYS
 * only see one node). Yields each batch.
 */
export async function* scanKeys(client: RedisClient, pattern: string, count = 1000): AsyncGenerator<string[]> {
  const nodes: Redis[] = isCluster(client) ? client.nodes('master') : [client];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}

/** Deletes keys that may live in different cluster slots (one command per key on a cluster). */
export async function deleteKeys(client: RedisClient, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0;
  if (!isCluster(client)) return client.unlink(...keys);
  const removed = await Promise.all(keys.map((key) => client.unlink(key)));
  return removed.reduce((a, b) => a + b, 0);
}

/** Deletes every key under `prefix` (on every primary of a cluster). */
export async function deleteKeysWithPrefix(client: RedisClient, prefix: string): Promise<void> {
  for await (const keys of scanKeys(client, `${prefix}*`)) await deleteKeys(client, keys);
}

/** Round-trip time of a PING, in milliseconds. */
export async function pingRedis(redis: RedisClient): Promise<number> {
  const started = performance.now();
  await redis.ping();
  return performance.now() - started;
}

/** Closes a connection gracefully, falling back to a hard disconnect when it is already broken. */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

/**
 * Sends the commands `client` issues in one turn of the event loop in one socket write: the first
 * command of a turn corks the socket and the turn's check phase (setImmediate) uncorks it, so the
 * commands go out together (one writev) instead of one write each. On a 2-core VM a write to
 * Redis's socket cost the worker ~10% of its CPU (the loopback TCP send runs in the writer's
 * system call), two a tiny job. Replies and errors are the client's as before: the commands are in
 * its command queue as soon as they are issued; a socket that closes while corked drops them
 * unsent, and the client retries or fails them as it does any command a closed socket left
 * unanswered. A Redis Cluster client is left as it is (its nodes keep their own sockets).
 */
export function writeCommandsPerTurn(client: RedisClient): void {
  if (isCluster(client)) return;
  const send = client.sendCommand;
  let corked: Redis['stream'] | undefined;
  const uncork = (): void => {
    const stream = corked;
    corked = undefined;
    stream?.uncork();
  };
  client.sendCommand = function sendInTurn(this: Redis, command, stream) {
    if (corked === undefined && stream === undefined && this.status === 'ready' && this.stream.writable) {
      corked = this.stream;
      corked.cork();
      setImmediate(uncork);
    }
    return send.call(this, command, stream);
  };
}
