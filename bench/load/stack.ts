/**
 * The system under load, started by the benchmark and stopped by it: a fresh database migrated
 * from scratch, its own Redis key prefix, enterprise tenants with API keys, `catalytic api` and
 * `catalytic worker` child processes, and the bare Koa ceiling server. Per-plan request limits
 * are lifted in this database only, so 429s measure nothing but the credential burst cap.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
const BARE_KOA = fileURLToPath(new URL('./bare-koa.ts', import.meta.url));

export interface StackOptions {
  /** PostgreSQL server, without a database name. */
  serverUrl: string;
  redisUrl: string;
  /** Burst cap per API key (RATE_LIMIT_CREDENTIAL_PER_SECOND) for the bench tenants. */
  credentialPerSecond: number;
}

export interface BenchTenant {
  tenantId: string;
  authorization: string;
}

/** A child process of the stack. */
export interface StackProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  url: string;
  output(): string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function admin<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function waitFor(url: string, proc: Pick<StackProcess, 'child' | 'output'>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`process exited (${proc.child.exitCode}): ${proc.output().slice(-2000)}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms: ${proc.output().slice(-2000)}`);
}

/** Resident set size of a process, from /proc (Linux), in bytes. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Linux reports process CPU time in clock ticks of USER_HZ, 100 per second on every common build. */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, from /proc (Linux), in milliseconds. */
export function cpuMs(pid: number): number | undefined {
  try {
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [utime, stime] = [Number(fields[11]), Number(fields[12])];
    return ((utime + stime) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** V8 heap in use, from the API's own /metrics (prom-client default metrics). */
export async function heapUsedBytes(apiUrl: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${apiUrl}/metrics`)).text();
    const match = /^catalytic_nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export class LoadStack {
  readonly databaseName = `catalytic_bench_${Math.floor(Date.now() / 1000)}_load_${randomBytes(3).toString('hex')}`;
  readonly prefix = `cat_bench_${randomBytes(3).toString('hex')}`;
  readonly databaseUrl: string;
  private readonly keysDir = mkdtempSync(join(tmpdir(), 'catalytic-load-keys-'));
  private readonly processes: StackProcess[] = [];
  private created = false;
  db: Db | undefined;
  redis: Redis | undefined;

  constructor(private readonly options: StackOptions) {
    this.databaseUrl = `${options.serverUrl}/${this.databaseName}`;
  }

  async start(): Promise<void> {
    // Production refuses to generate a signing key itself: give it one (the bench signs no one in).
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(join(this.keysDir, 'jwt-signing-key.pem'), key, { mode: 0o600 });
    await admin(this.options.serverUrl, (c) => c.query(`create database ${pg.escapeIdentifier(this.databaseName)}`));
    this.created = true;
    this.db = createDb({ url: this.databaseUrl, poolMax: 4 });
    await migrateLatest(this.db);
    await this.db('plans').update({ requests_per_minute: -1, api_calls_per_month: -1, jobs_per_month: -1, max_lattices: -1 });
    this.redis = createRedis(this.options.redisUrl, { connectionName: 'bench-load' });
  }

  /** Environment of the stack's processes. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      LOG_PRETTY: 'false',
      DATABASE_URL: this.databaseUrl,
      DATABASE_CREATE: 'false',
      REDIS_URL: this.options.redisUrl,
      REDIS_PREFIX: this.prefix,
      HOST: '127.0.0.1',
      JWT_KEYS_DIR: this.keysDir,
      JWT_PRIVATE_KEY_FILE: join(this.keysDir, 'jwt-signing-key.pem'),
      RATE_LIMIT_CREDENTIAL_PER_SECOND: String(this.options.credentialPerSecond),
      ...extra,
    };
  }

  /** Enterprise tenants, each with an API key holding every scope. */
  async tenants(count: number): Promise<BenchTenant[]> {
    const db = this.db as Db;
    const made: BenchTenant[] = [];
    for (let i = 0; i < count; i++) {
      const [tenant] = (await db('tenants').insert({ name: `load-${i}`, plan_code: 'enterprise' }).returning('id')) as Array<{ id: string }>;
      const tenantId = (tenant as { id: string }).id;
      const [user] = (await db('users')
        .insert({ tenant_id: tenantId, email: `load-${i}@example.test`, first_name: 'Load', last_name: 'Bench', password_hash: '!', role: 'owner' })
        .returning('id')) as Array<{ id: string }>;
      const key = generateApiKey();
      await db('api_keys').insert({
        tenant_id: tenantId,
        user_id: (user as { id: string }).id,
        name: 'load bench',
        prefix: key.prefix,
        key_hash: key.hash,
        scopes: [...SCOPES],
      });
      made.push({ tenantId, authorization: `Bearer ${key.key}` });
    }
    return made;
  }

  private spawn(name: string, args: string[], env: Record<string, string>, url: string): StackProcess {
    // For profiling the stack: e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
    const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-20_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const proc: StackProcess = { name, child, pid: child.pid as number, url, output: () => output };
    this.processes.push(proc);
    return proc;
  }

  /** Starts `catalytic api`; resolves once /ready answers. */
  async api(extra: Record<string, string> = {}): Promise<StackProcess> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = this.spawn('api', [BIN, 'api'], this.env({ PORT: String(port), ...extra }), url);
    await waitFor(`${url}/ready`, proc);
    return proc;
  }

  /** Starts `catalytic worker`; resolves once its probe answers /ready. */
  async worker(extra: Record<string, string> = {}): Promise<StackProcess> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = this.spawn('worker', [BIN, 'worker'], this.env({ METRICS_PORT: String(port), ...extra }), url);
    await waitFor(`${url}/ready`, proc);
    return proc;
  }

  /** Starts the bare Koa server (the ceiling). */
  async bareKoa(): Promise<StackProcess> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = this.spawn('bare-koa', ['--import', 'tsx', BARE_KOA], { PATH: process.env.PATH ?? '', PORT: String(port) }, url);
    await waitFor(`${url}/ping`, proc);
    return proc;
  }

  /** Stops every process it started (SIGTERM, then SIGKILL), empties its Redis prefix, drops its database. */
  async stop(): Promise<void> {
    await Promise.all(this.processes.map(({ child }) => terminate(child, 30_000)));
    if (this.redis) {
      await deleteKeysWithPrefix(this.redis, this.prefix);
      this.redis.disconnect();
    }
    await this.db?.destroy();
    if (this.created) {
      await admin(this.options.serverUrl, (c) => c.query(`drop database if exists ${pg.escapeIdentifier(this.databaseName)} with (force)`));
    }
    rmSync(this.keysDir, { recursive: true, force: true });
  }
}
