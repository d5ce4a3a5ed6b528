/**
 * The API process's cache of job reads (docs/architecture.md › Job reads and the job-state cache).
 *
 * Each entry is a job as the API answers it (body, JSON text, ETag), stored under the tenant that
 * read it and the row's `state_version`. A read asks Redis for the job's version key (one GET) and
 * answers from memory when the entry was read at that very version (a finished job's entry, which
 * no transition can change, is answered without asking); otherwise it reads the row
 * through row-level security (job-reads.ts), raises the version key if the row is newer than
 * Redis knew, and keeps the answer. Writers raise the key after every change a client could see
 * (job-state-versions.ts), so an entry is never answered once any process has seen a newer state.
 *
 * Bounded: by bytes in all, by bytes per tenant (one tenant polling many jobs evicts its own
 * entries, not another's), and by entry size (large results are read from PostgreSQL each time).
 */
import { createHash } from 'node:crypto';
import type { Db } from '../../shared/db.ts';
import type { JobBody } from '../../shared/jobs/job-body.ts';
import { isFinalStatus } from '../../shared/jobs/types.ts';
import type { Logger } from '../../shared/logger.ts';
import { raiseJobStateVersion, readJobStateVersion } from '../../shared/queues/job-state-versions.ts';
import type { RedisClient } from '../../shared/redis.ts';
import { MINUTE, SECOND } from '../../shared/units.ts';
import { readVersionedJob } from './job-reads.ts';
import { jobResponse } from './responses.ts';

export interface JobStateCacheOptions {
  /** Bytes of cached job answers in the process. @defaultValue 32 MiB */
  maxBytes?: number;
  /** Bytes one tenant's entries may hold. @defaultValue 4 MiB */
  maxTenantBytes?: number;
  /** Largest answer kept; a larger one is read from PostgreSQL every time. @defaultValue 64 KiB */
  maxEntryBytes?: number;
  /**
   * Age after which an entry of an unfinished job is read again even though its version key has
   * not moved: the bound on staleness when a writer could not reach Redis. @defaultValue 5 s
   */
  recheckMs?: number;
  /** The same for finished jobs, which only retention changes (by deleting them). @defaultValue 1 min */
  finalRecheckMs?: number;
}

const DEFAULTS: Required<JobStateCacheOptions> = {
  maxBytes: 32 * 1024 * 1024,
  maxTenantBytes: 4 * 1024 * 1024,
  maxEntryBytes: 64 * 1024,
  recheckMs: 5 * SECOND,
  finalRecheckMs: MINUTE,
};

/** A job as the API answers it, at one state version of its row. */
export interface JobState {
  tenantId: string;
  jobId: string;
  version: number;
  body: JobBody;
  /** The answer's JSON (body and links), serialised once. */
  json: string;
  /** Strong ETag of `json`. */
  etag: string;
}

interface Entry extends JobState {
  bytes: number;
  checkedAt: number;
}

interface TenantEntries {
  entries: Map<string, Entry>;
  bytes: number;
}

export interface JobStateCacheStats {
  hits: number;
  misses: number;
  entries: number;
  bytes: number;
}

export class JobStateCache {
  private readonly options: Required<JobStateCacheOptions>;
  /** Least recently used tenant first; within a tenant, least recently used job first. */
  private readonly tenants = new Map<string, TenantEntries>();
  /** Database reads in flight, per tenant and job, with the version key seen before each began. */
  private readonly reading = new Map<string, { seen: number | undefined; read: Promise<JobState | undefined> }>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly db: Db,
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly logger?: Logger,
    options: JobStateCacheOptions = {},
    /**
     * Where the version key is read: may be the per-request connection. A read needs no order
     * against other callers: every raise a client can have heard of was acknowledged before its
     * answer, so any read sent after that sees it, whatever the connection.
     */
    private readonly versionReads: RedisClient = redis,
  ) {
    this.options = { ...DEFAULTS, ...options };
    for (const [name, value] of Object.entries(this.options)) {
      if (!Number.isFinite(value) || value < 0) throw new Error(`options.${name} must be a non-negative number`);
    }
  }

  /**
   * The tenant's job as it is now, or undefined when the tenant has no such job (another
   * tenant's job included: only an entry read for this tenant is ever answered, and a miss is
   * decided by row-level security).
   */
  async read(tenantId: string, jobId: string): Promise<JobState | undefined> {
    const cached = this.tenants.get(tenantId)?.entries.get(jobId);
    // A final state never changes (no transition leaves one), so it needs no version check.
    if (cached && cached.tenantId === tenantId && isFinalStatus(cached.body.status) && this.fresh(cached)) {
      this.hits++;
      this.touch(tenantId, cached);
      return cached;
    }
    let current: number | undefined;
    let redisUp = true;
    try {
      current = await readJobStateVersion(this.versionReads, this.prefix, jobId);
    } catch (err) {
      // Without the version nothing cached can be trusted: PostgreSQL answers, nothing is kept.
      redisUp = false;
      this.logger?.debug({ err, jobId }, 'job state version unreadable');
    }
    const entry = this.tenants.get(tenantId)?.entries.get(jobId);
    if (entry && entry.tenantId === tenantId && current !== undefined && entry.version === current && this.fresh(entry)) {
      this.hits++;
      this.touch(tenantId, entry);
      return entry;
    }
    this.misses++;
    const key = `${tenantId}/${jobId}`;
    // A read that began after seeing this same version sees at least what this one would.
    const inFlight = this.reading.get(key);
    if (inFlight && redisUp && current !== undefined && inFlight.seen === current) return inFlight.read;
    const read = this.load(tenantId, jobId, current, redisUp);
    this.reading.set(key, { seen: current, read });
    try {
      return await read;
    } finally {
      if (this.reading.get(key)?.read === read) this.reading.delete(key);
    }
  }

  /** Forgets a job in this process (after a change made here, before Redis hears of it). */
  forget(tenantId: string, jobId: string): void {
    const tenant = this.tenants.get(tenantId);
    const entry = tenant?.entries.get(jobId);
    if (tenant && entry) this.remove(tenantId, tenant, entry);
  }

  stats(): JobStateCacheStats {
    let entries = 0;
    for (const tenant of this.tenants.values()) entries += tenant.entries.size;
    return { hits: this.hits, misses: this.misses, entries, bytes: this.bytes };
  }

  private fresh(entry: Entry): boolean {
    const limit = isFinalStatus(entry.body.status) ? this.options.finalRecheckMs : this.options.recheckMs;
    return Date.now() - entry.checkedAt < limit;
  }

  private async load(tenantId: string, jobId: string, seen: number | undefined, redisUp: boolean): Promise<JobState | undefined> {
    const row = await readVersionedJob(this.db, tenantId, jobId);
    if (!row) {
      this.forget(tenantId, jobId);
      return undefined;
    }
    const json = JSON.stringify(jobResponse(row.body));
    const state: JobState = { tenantId, jobId, version: row.version, body: row.body, json, etag: etagOf(json) };
    let trusted = redisUp;
    if (redisUp && (seen === undefined || row.version > seen)) {
      // Before answering: once this client has seen the state, no process may answer an older one.
      try {
        await raiseJobStateVersion(this.redis, this.prefix, jobId, row.version);
      } catch (err) {
        trusted = false;
        this.logger?.debug({ err, jobId }, 'could not raise a job state version');
      }
    }
    if (trusted) this.keep(state);
    else this.forget(tenantId, jobId);
    return state;
  }

  private keep(state: JobState): void {
    // JSON text is two bytes a character in V8's worst case; the body object about as much again.
    const bytes = 4 * state.json.length;
    this.forget(state.tenantId, state.jobId);
    // Looked up after the removal, which drops a tenant left without entries.
    let tenant = this.tenants.get(state.tenantId);
    if (bytes > this.options.maxEntryBytes || bytes > this.options.maxTenantBytes) return;
    if (!tenant) {
      tenant = { entries: new Map(), bytes: 0 };
      this.tenants.set(state.tenantId, tenant);
    }
    const entry: Entry = { ...state, bytes, checkedAt: Date.now() };
    tenant.entries.set(state.jobId, entry);
    tenant.bytes += bytes;
    this.bytes += bytes;
    this.touch(state.tenantId, entry);
    // The tenant's own oldest entries first, then the least recently used tenants'.
    while (tenant.bytes > this.options.maxTenantBytes) this.evictOldest(state.tenantId, tenant);
    while (this.bytes > this.options.maxBytes) {
      const [lruTenantId, lru] = this.tenants.entries().next().value as [string, TenantEntries];
      this.evictOldest(lruTenantId, lru);
    }
  }

  /** Marks the entry and its tenant most recently used (a Map keeps insertion order). */
  private touch(tenantId: string, entry: Entry): void {
    const tenant = this.tenants.get(tenantId);
    if (!tenant) return;
    tenant.entries.delete(entry.jobId);
    tenant.entries.set(entry.jobId, entry);
    this.tenants.delete(tenantId);
    this.tenants.set(tenantId, tenant);
  }

  private evictOldest(tenantId: string, tenant: TenantEntries): void {
    const oldest = tenant.entries.values().next().value as Entry | undefined;
    if (oldest) this.remove(tenantId, tenant, oldest);
    else this.tenants.delete(tenantId);
  }

  private remove(tenantId: string, tenant: TenantEntries, entry: Entry): void {
    tenant.entries.delete(entry.jobId);
    tenant.bytes -= entry.bytes;
    this.bytes -= entry.bytes;
    if (tenant.entries.size === 0) this.tenants.delete(tenantId);
  }
}

/** A strong validator of the answer's exact bytes. */
export function etagOf(json: string): string {
  return `"${createHash('sha1').update(json).digest('base64url').slice(0, 22)}"`;
}
