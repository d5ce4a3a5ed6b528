/**
 * A throwaway Catalytic stack for the benchmark: its own database (migrated), its own Redis key
 * prefix, tenants with API keys, and `catalytic api` / `catalytic worker` child processes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { generateApiKey } from '../../shared/auth/api-key-format.ts';
import { SCOPES } from '../../shared/auth/principal.ts';
import { createDb, type Db } from '../../shared/db.ts';
import { migrateLatest } from '../../shared/migrate.ts';
import { createRedis, deleteKeysWithPrefix, type Redis } from '../../shared/redis.ts';
import { terminate } from '../support/terminate.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/catalytic.js');

export interface StackOptions {
  serverUrl: string;
  redisUrl: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function admin<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function waitReady(url: string, child: ChildProcess, output: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}): ${output().slice(-2000)}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms: ${output().slice(-2000)}`);
}

export class BenchStack {
  readonly databaseName = `catalytic_bench_${Math.floor(Date.now() / 1000)}_${randomBytes(3).toString('hex')}`;
  readonly prefix = `cat_bench_${randomBytes(3).toString('hex')}`;
  readonly databaseUrl: string;
  private readonly keysDir = mkdtempSync(join(tmpdir(), 'catalytic-bench-keys-'));
  private readonly children: ChildProcess[] = [];
  /** Process ids of the API and worker processes, by role. */
  readonly pids: { api: number[]; worker: number[] } = { api: [], worker: [] };
  db!: Db;
  redis!: Redis;

  constructor(private readonly options: StackOptions) {
    this.databaseUrl = `${options.serverUrl}/${this.databaseName}`;
  }

  async start(): Promise<void> {
    await admin(this.options.serverUrl, (c) => c.query(`create database ${pg.escapeIdentifier(this.databaseName)}`));
    this.db = createDb({ url: this.databaseUrl, poolMax: 4 });
    await migrateLatest(this.db);
    // The benchmark measures the pipeline, not the per-plan request limits.
    await this.db('plans').update({ requests_per_minute: 1_000_000_000, api_calls_per_month: -1, jobs_per_month: -1 });
    this.redis = createRedis(this.options.redisUrl, { connectionName: 'bench' });
  }

  /** Environment of the stack's processes. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      LOG_PRETTY: 'false',
      DATABASE_URL: this.databaseUrl,
      DATABASE_CREATE: 'false',
      REDIS_URL: this.options.redisUrl,
      REDIS_PREFIX: this.prefix,
      HOST: '127.0.0.1',
      JWT_KEYS_DIR: this.keysDir,
      RATE_LIMIT_CREDENTIAL_PER_SECOND: '1000000',
      ...extra,
    };
  }

  /** Enterprise tenants (no plan caps in the way), each with an API key. */
  async tenants(count: number): Promise<Array<{ tenantId: string; authorization: string }>> {
    const made: Array<{ tenantId: string; authorization: string }> = [];
    for (let i = 0; i < count; i++) {
      const [tenant] = (await this.db('tenants').insert({ name: `bench-${i}`, plan_code: 'enterprise' }).returning('id')) as Array<{ id: string }>;
      const tenantId = (tenant as { id: string }).id;
      const [user] = (await this.db('users')
        .insert({ tenant_id: tenantId, email: `bench-${i}@example.test`, first_name: 'Bench', last_name: 'User', password_hash: '!', role: 'owner' })
        .returning('id')) as Array<{ id: string }>;
      const key = generateApiKey();
      await this.db('api_keys').insert({
        tenant_id: tenantId,
        user_id: (user as { id: string }).id,
        name: 'bench',
        prefix: key.prefix,
        key_hash: key.hash,
        scopes: [...SCOPES],
      });
      made.push({ tenantId, authorization: `Bearer ${key.key}` });
    }
    return made;
  }

  private spawn(role: string, env: Record<string, string>): { child: ChildProcess; output: () => string } {
    const child = spawn(process.execPath, [BIN, role], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
    child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
    this.children.push(child);
    return { child, output: () => output };
  }

  /** Starts `catalytic api`; resolves with its URL once ready. */
  async api(extra: Record<string, string> = {}): Promise<string> {
    const port = await freePort();
    const { child, output } = this.spawn('api', this.env({ PORT: String(port), ...extra }));
    if (child.pid) this.pids.api.push(child.pid);
    const url = `http://127.0.0.1:${port}`;
    await waitReady(`${url}/ready`, child, output);
    return url;
  }

  /** Starts `catalytic worker`; resolves once ready. */
  async worker(extra: Record<string, string> = {}): Promise<void> {
    const port = await freePort();
    const { child, output } = this.spawn('worker', this.env({ METRICS_PORT: String(port), ...extra }));
    if (child.pid) this.pids.worker.push(child.pid);
    await waitReady(`http://127.0.0.1:${port}/ready`, child, output);
  }

  /** PostgreSQL backend processes serving the stack's database. */
  async backendPids(): Promise<number[]> {
    // The stack's roles name their connections `catalytic:<role>`; the benchmark's own do not.
    const rows = (await this.db.raw(`select pid from pg_stat_activity where datname = ? and application_name like 'catalytic:%'`, [this.databaseName])) as {
      rows: Array<{ pid: number }>;
    };
    return rows.rows.map((r) => r.pid);
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((child) => terminate(child, 20_000)));
    if (this.redis) {
      await deleteKeysWithPrefix(this.redis, this.prefix);
      this.redis.disconnect();
    }
    await this.db?.destroy();
    await admin(this.options.serverUrl, (c) => c.query(`drop database if exists ${pg.escapeIdentifier(this.databaseName)} with (force)`));
    rmSync(this.keysDir, { recursive: true, force: true });
  }
}
