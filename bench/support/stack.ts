/**
 * A throwaway Catalytic stack for a benchmark, started by it and stopped by it: a fresh database
 * migrated from scratch, its own Redis key prefix, enterprise tenants with API keys, and
 * `catalytic api` / `catalytic worker` child processes run as in production. Per-plan limits are
 * lifted in this database only: the benchmarks measure the system, not the plans.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { generateApiKey } from '../../shared/auth/api-key-format.ts';
import { SCOPES } from '../../shared/auth/principal.ts';
import { createDb, type Db, withServerClient } from '../../shared/db.ts';
import { migrateLatest } from '../../shared/migrate.ts';
import { createRedis, deleteKeysWithPrefix, type Redis } from '../../shared/redis.ts';
import { cpuMs, ownCpuMs } from './process-stats.ts';
import { terminate } from './terminate.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/catalytic.js');
/** application_name of the benchmark's own database connections. */
const BENCH_CONNECTION = 'catalytic-bench';

export interface StackOptions {
  /** PostgreSQL server, without a database name. */
  serverUrl: string;
  redisUrl: string;
  /** Names the database and key prefix, e.g. `load`. */
  name: string;
  /** Burst cap per API key (RATE_LIMIT_CREDENTIAL_PER_SECOND) for the bench tenants. */
  credentialPerSecond: number;
  /**
   * Keep the monthly job and compute-unit quotas, at values no run reaches, instead of lifting
   * them: submissions then take the quota path (locks and usage read) real plans take.
   */
  farQuotas?: boolean;
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
  /** Its probe server (METRICS_PORT: /metrics, /ready), where it has one of its own. */
  metricsUrl?: string;
  output(): string;
}

/** CPU used so far by what every benchmark shares: PostgreSQL backends, Redis, and this process. */
export interface SharedCpu {
  postgres: Map<number, number>;
  /** Each backend's client (`application_name`, e.g. `catalytic:api`), to split PostgreSQL's CPU by who asked. */
  postgresClients?: Map<number, string>;
  redis: number;
  benchmark: number;
}

/** CPU spent between two samples, in ms; backends that appeared meanwhile count from zero. */
export function sharedCpuSpent(before: SharedCpu, after: SharedCpu): { postgres: number; redis: number; benchmark: number } {
  let postgres = 0;
  for (const [pid, ms] of after.postgres) postgres += ms - (before.postgres.get(pid) ?? 0);
  return { postgres, redis: after.redis - before.redis, benchmark: after.benchmark - before.benchmark };
}

/**
 * PostgreSQL CPU spent between two samples per client (`application_name` without what follows a
 * second colon; `unnamed` when it is empty, as the bare Koa floor's pool), in ms: whether the API's queries or the workers' writes took the backends' time.
 */
export function postgresCpuByClient(before: SharedCpu, after: SharedCpu): Record<string, number> {
  const spent: Record<string, number> = {};
  for (const [pid, ms] of after.postgres) {
    const client = after.postgresClients?.get(pid) ?? 'unknown';
    spent[client] = (spent[client] ?? 0) + ms - (before.postgres.get(pid) ?? 0);
  }
  return spent;
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

export class BenchStack {
  readonly databaseName: string;
  readonly prefix = `cat_bench_${randomBytes(3).toString('hex')}`;
  readonly databaseUrl: string;
  private readonly keysDir = mkdtempSync(join(tmpdir(), 'catalytic-bench-keys-'));
  /** The key every process of the stack seals webhook secrets with (required in production). */
  private readonly secretsKey = randomBytes(32).toString('base64');
  protected readonly processes: StackProcess[] = [];
  private created = false;
  private db_: Db | undefined;
  private redis_: Redis | undefined;

  constructor(protected readonly options: StackOptions) {
    this.databaseName = `catalytic_bench_${Math.floor(Date.now() / 1000)}_${options.name}_${randomBytes(3).toString('hex')}`;
    this.databaseUrl = `${options.serverUrl}/${this.databaseName}`;
  }

  /** The benchmark's own connection to the stack's database (after `start`). */
  get db(): Db {
    if (!this.db_) throw new Error('the stack is not started');
    return this.db_;
  }

  /** The benchmark's own Redis connection (after `start`). */
  get redis(): Redis {
    if (!this.redis_) throw new Error('the stack is not started');
    return this.redis_;
  }

  /** Process ids of the stack's processes of one role. */
  pids(name: string): number[] {
    return this.processes.filter((p) => p.name === name).map((p) => p.pid);
  }

  async start(): Promise<void> {
    // Production refuses to generate a signing key itself: give it one (the bench signs no one in).
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(join(this.keysDir, 'jwt-signing-key.pem'), key, { mode: 0o600 });
    await withServerClient(this.options.serverUrl, (c) => c.query(`create database ${pg.escapeIdentifier(this.databaseName)}`));
    this.created = true;
    // Named so its own queries are not counted as the stack's PostgreSQL work.
    this.db_ = createDb({ url: this.databaseUrl, poolMax: 4, applicationName: BENCH_CONNECTION });
    await migrateLatest(this.db_);
    const quotas = this.options.farQuotas ? { jobs_per_month: 1_000_000_000, compute_units_per_month: 1_000_000_000_000 } : { jobs_per_month: -1, compute_units_per_month: -1 };
    await this.db_('plans').update({ requests_per_minute: -1, api_calls_per_month: -1, max_lattices: -1, max_webhooks: -1, ...quotas });
    this.redis_ = createRedis(this.options.redisUrl, { connectionName: `bench-${this.options.name}` });
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
      SECRETS_KEY: this.secretsKey,
      RATE_LIMIT_CREDENTIAL_PER_SECOND: String(this.options.credentialPerSecond),
      ...settingsFromEnvironment(),
      ...extra,
    };
  }

  /** Enterprise tenants, each with an API key holding every scope. */
  async tenants(count: number): Promise<BenchTenant[]> {
    const made: BenchTenant[] = [];
    for (let i = 0; i < count; i++) {
      const [tenant] = (await this.db('tenants').insert({ name: `${this.options.name}-${i}`, plan_code: 'enterprise' }).returning('id')) as Array<{ id: string }>;
      const tenantId = (tenant as { id: string }).id;
      const [user] = (await this.db('users')
        .insert({ tenant_id: tenantId, email: `${this.options.name}-${i}@example.test`, first_name: 'Bench', last_name: 'User', password_hash: '!', role: 'owner' })
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

  /** Starts a child process; resolves once `readyPath` on `url` answers 2xx. */
  protected async launch(name: string, args: string[], env: Record<string, string>, url: string, readyPath: string): Promise<StackProcess> {
    // For profiling the stack: e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"; the
    // worker processes alone: BENCH_WORKER_NODE_ARGS (given, it replaces BENCH_NODE_ARGS for them).
    const fromEnv = name === 'worker' ? (process.env.BENCH_WORKER_NODE_ARGS ?? process.env.BENCH_NODE_ARGS) : process.env.BENCH_NODE_ARGS;
    const nodeArgs = fromEnv?.split(' ').filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-20_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const proc: StackProcess = { name, child, pid: child.pid as number, url, output: () => output };
    this.processes.push(proc);
    await waitFor(`${url}${readyPath}`, proc);
    return proc;
  }

  /** Starts `catalytic api`; resolves once /ready answers. */
  async api(extra: Record<string, string> = {}): Promise<StackProcess> {
    const port = await freePort();
    // Its own metrics port too: the default one may be taken by another stack on the machine.
    const metricsPort = await freePort();
    const api = await this.launch('api', [BIN, 'api'], this.env({ PORT: String(port), METRICS_PORT: String(metricsPort), ...extra }), `http://127.0.0.1:${port}`, '/ready');
    // In production /metrics is served on the probe port alone (shared/config.ts › metricsOnApiPort).
    api.metricsUrl = `http://127.0.0.1:${metricsPort}`;
    return api;
  }

  /** Starts `catalytic worker`; resolves once its probe answers /ready. */
  async worker(extra: Record<string, string> = {}): Promise<StackProcess> {
    const port = await freePort();
    return this.launch('worker', [BIN, 'worker'], this.env({ METRICS_PORT: String(port), ...extra }), `http://127.0.0.1:${port}`, '/ready');
  }

  /** PostgreSQL backend processes serving the stack's database (the benchmark's own excepted). */
  async backendPids(): Promise<number[]> {
    return [...(await this.backends()).keys()];
  }

  /** The same backends with their client's `application_name`. */
  async backends(): Promise<Map<number, string>> {
    const rows = (await this.db.raw(`select pid, application_name from pg_stat_activity where datname = ? and application_name <> ?`, [
      this.databaseName,
      BENCH_CONNECTION,
    ])) as {
      rows: Array<{ pid: number; application_name: string }>;
    };
    return new Map(rows.rows.map((r) => [r.pid, r.application_name.split(':').slice(0, 2).join(':') || 'unnamed']));
  }

  /** CPU Redis has used so far (its INFO), in ms: the whole server, shared with anything else on it. */
  async redisCpuMs(): Promise<number> {
    const info = await this.redis.info('cpu');
    const value = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    return (value('used_cpu_user') + value('used_cpu_sys')) * 1000;
  }

  /** A sample of the CPU PostgreSQL (this database's backends), Redis and this process have used. */
  async sharedCpu(): Promise<SharedCpu> {
    const backends = await this.backends();
    return {
      postgres: new Map([...backends.keys()].map((pid) => [pid, cpuMs(pid) ?? 0])),
      postgresClients: backends,
      redis: await this.redisCpuMs(),
      benchmark: ownCpuMs(),
    };
  }

  /**
   * Stops the stack's processes, then writes what each printed (its last 20,000 characters:
   * warnings and errors at the stack's LOG_LEVEL) to a directory of its own, which outlives
   * `stop`; returns its path. For a benchmark that failed: the API's `request failed` line says
   * why a request got a 5xx. The processes are stopped first so that what they wrote last (that
   * line, written just before the answer) has been read from their pipes.
   */
  async saveOutputs(): Promise<string> {
    await Promise.all(
      this.processes.map(async ({ child }) => {
        const drained = new Promise<void>((resolve) => (!child.stdout || child.stdout.readableEnded ? resolve() : child.once('close', () => resolve())));
        await terminate(child, 30_000);
        await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 2000))]);
      }),
    );
    const dir = mkdtempSync(join(tmpdir(), `catalytic-bench-logs-${this.options.name}-`));
    for (const proc of this.processes) writeFileSync(join(dir, `${proc.name}-${proc.pid}.log`), proc.output());
    return dir;
  }

  /** Stops the stack's processes with these names (SIGTERM, then SIGKILL). */
  async stopProcesses(names: readonly string[]): Promise<void> {
    await Promise.all(this.processes.filter((p) => names.includes(p.name)).map(({ child }) => terminate(child, 30_000)));
  }

  /** Stops every process it started (SIGTERM, then SIGKILL), empties its Redis prefix, drops its database. */
  async stop(): Promise<void> {
    await Promise.all(this.processes.map(({ child }) => terminate(child, 30_000)));
    if (this.redis_) {
      await deleteKeysWithPrefix(this.redis_, this.prefix);
      this.redis_.disconnect();
    }
    await this.db_?.destroy();
    if (this.created) {
      await withServerClient(this.options.serverUrl, (c) => c.query(`drop database if exists ${pg.escapeIdentifier(this.databaseName)} with (force)`));
    }
    rmSync(this.keysDir, { recursive: true, force: true });
  }
}

/**
 * Settings for every process of the stack from `BENCH_STACK_ENV` ("NAME=value,NAME=value"), so
 * one setting can be compared against its default with the same benchmark, e.g.
 * `BENCH_STACK_ENV=SUBMIT_WRITES_PER_TENANT=1 npm run bench:load -- …`.
 */
function settingsFromEnvironment(): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const pair of (process.env.BENCH_STACK_ENV ?? '').split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`BENCH_STACK_ENV: "${pair}" is not NAME=value`);
    settings[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return settings;
}
