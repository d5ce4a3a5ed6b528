/**
 * Credential lookups (an API key's row with its tenant and user; an access token's user and
 * tenant row) kept in process memory for up to `ttlMs`, so an authenticated request costs no
 * PostgreSQL round trip. `invalidate` drops entries here at once and publishes the change on Redis
 * for the other API processes; while that subscription is down the cache is bypassed.
 * See docs/security.md › Credential cache.
 */
import type { Logger } from '../../shared/logger.ts';
import { duplicateRedis, type RedisClient } from '../../shared/redis.ts';

/** What changed: entries tagged with any of these ids are dropped. */
export interface PrincipalChange {
  tenantId?: string;
  userId?: string;
  apiKeyId?: string;
}

/** The ids an entry depends on. */
export interface PrincipalTags {
  tenantId: string;
  userId: string | null;
  apiKeyId: string | null;
}

interface Entry<V> {
  value: V;
  tags: PrincipalTags;
  expiresAt: number;
}

export interface PrincipalCacheOptions {
  /** How long an entry is served; 0 turns the cache off. */
  ttlMs: number;
  /** Most entries kept; the oldest go first. */
  maxEntries: number;
}

function matches(tags: PrincipalTags, change: PrincipalChange): boolean {
  return (
    (change.tenantId !== undefined && tags.tenantId === change.tenantId) ||
    (change.userId !== undefined && tags.userId === change.userId) ||
    (change.apiKeyId !== undefined && tags.apiKeyId === change.apiKeyId)
  );
}

/** One map of cached lookups (by credential), with single-flight loading. */
export class PrincipalCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly loading = new Map<string, Promise<V | undefined>>();
  private generation = 0;
  /** False while invalidations cannot be received: nothing is served or stored. */
  enabled = false;

  constructor(private readonly options: PrincipalCacheOptions) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached value for `key`, else `load()`'s (stored when it returns a value). Concurrent
   * misses of one key share one load. `tagsOf` names the ids the value depends on.
   */
  async get(key: string, load: () => Promise<V | undefined>, tagsOf: (value: V) => PrincipalTags): Promise<V | undefined> {
    if (!this.enabled || this.options.ttlMs <= 0) return load();
    const entry = this.entries.get(key);
    if (entry) {
      if (entry.expiresAt > Date.now()) return entry.value;
      this.entries.delete(key);
    }
    const pending = this.loading.get(key);
    if (pending) return pending;
    const generation = this.generation;
    const loaded = load().then(
      (value) => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
        if (value !== undefined && this.enabled && generation === this.generation) this.store(key, value, tagsOf(value));
        return value;
      },
      (err: unknown) => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, loaded);
    return loaded;
  }

  private store(key: string, value: V, tags: PrincipalTags): void {
    if (this.entries.size >= this.options.maxEntries) {
      // Insertion order: the first key is the oldest entry.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, tags, expiresAt: Date.now() + this.options.ttlMs });
  }

  /** Drops the entries a change touches, and any lookup in flight. */
  invalidate(change: PrincipalChange): void {
    this.generation++;
    this.loading.clear();
    for (const [key, entry] of this.entries) if (matches(entry.tags, change)) this.entries.delete(key);
  }

  clear(): void {
    this.generation++;
    this.loading.clear();
    this.entries.clear();
  }
}

/** The cached lookups of one API process and the Redis channel that keeps them current. */
export class PrincipalInvalidations {
  private subscriber: RedisClient | undefined;
  private closed = false;
  private readonly caches: Array<PrincipalCache<unknown>> = [];

  constructor(
    private readonly redis: RedisClient,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {
    // Lives as long as the connection it publishes on (the runtime's).
    redis.once('end', () => void this.close());
  }

  /** A new cache kept current by this channel. */
  cache<V>(options: PrincipalCacheOptions): PrincipalCache<V> {
    const cache = new PrincipalCache<V>(options);
    this.caches.push(cache as PrincipalCache<unknown>);
    if (options.ttlMs > 0) this.listen();
    return cache;
  }

  private setEnabled(enabled: boolean): void {
    for (const cache of this.caches) {
      // Whatever was cached before a gap in the subscription may have missed an invalidation.
      if (!enabled || !cache.enabled) cache.clear();
      cache.enabled = enabled;
    }
  }

  private listen(): void {
    if (this.subscriber || this.closed) return;
    const subscriber = duplicateRedis(this.redis, 'catalytic:principals');
    this.subscriber = subscriber;
    const subscribe = () => {
      subscriber.subscribe(this.channel).then(
        () => {
          if (!this.closed && this.subscriber === subscriber) this.setEnabled(true);
        },
        (err: unknown) => this.logger.warn({ err }, 'credential cache: cannot subscribe to invalidations; credentials are read on every request'),
      );
    };
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.received(message);
    });
    subscriber.on('error', (err: Error) => this.logger.debug({ err }, 'credential cache subscriber error'));
    for (const gone of ['close', 'reconnecting', 'end']) subscriber.on(gone, () => this.setEnabled(false));
    subscriber.on('ready', subscribe);
  }

  private received(message: string): void {
    let change: PrincipalChange;
    try {
      change = JSON.parse(message) as PrincipalChange;
    } catch {
      return;
    }
    const clean: PrincipalChange = {};
    for (const field of ['tenantId', 'userId', 'apiKeyId'] as const) {
      if (typeof change[field] === 'string') clean[field] = change[field];
    }
    for (const cache of this.caches) cache.invalidate(clean);
  }

  /**
   * Something that changes principals was committed: drop matching entries here at once, then
   * tell every other API process. A failed publish is logged; other processes then catch up
   * within the TTL.
   */
  async invalidate(change: PrincipalChange): Promise<void> {
    for (const cache of this.caches) cache.invalidate(change);
    try {
      await this.redis.publish(this.channel, JSON.stringify(change));
    } catch (err) {
      this.logger.warn({ err, change }, 'credential cache: could not publish an invalidation; other processes catch up within the TTL');
    }
  }

  /** The subscriber connection (tests cut it to check the fail-safe). */
  get subscription(): RedisClient | undefined {
    return this.subscriber;
  }

  /** True while entries are served (the subscription is up). */
  get live(): boolean {
    return this.caches.some((cache) => cache.enabled);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.setEnabled(false);
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber) {
      subscriber.removeAllListeners('ready');
      await subscriber.quit().catch(() => subscriber.disconnect());
    }
  }
}
