/**
 * The whole system scaled out on one machine: N `catalytic api`, M `catalytic worker` and
 * `catalytic scheduler` processes on loopback ports, against one PostgreSQL database (made fresh
 * here) and one Redis or Redis Cluster. Each process can be killed and started again; `stop()`
 * stops everything the harness started, and a process that exits without `stop()` (a failed
 * run) still takes its children with it.
 *
 * Independent of vitest, so benchmarks and scripts can use it as well as tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createDb, withServerClient } from '../../shared/db.ts';
import { migrateLatest } from '../../shared/migrate.ts';
import { onExit } from './exit-cleanup.ts';
import { freePort, waitUntil } from './ports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/catalytic.js', import.meta.url));

export type Role = 'api' | 'worker' | 'scheduler';

export interface ClusterOptions {
  /** PostgreSQL server without a database, e.g. `postgres://postgres@127.0.0.1:5432`. */
  postgresServerUrl: string;
  /** A migrated database to clone; without one the fresh database is created and migrated. */
  templateDatabase?: string;
  /** @defaultValue redis://127.0.0.1:6379 */
  redisUrl?: string;
  /** Seeds of a Redis Cluster (REDIS_CLUSTER_NODES); when set, every process uses the cluster. */
  redisClusterNodes?: string;
  /** @defaultValue 2 */
  apis?: number;
  /** @defaultValue 2 */
  workers?: number;
  /** @defaultValue 2 */
  schedulers?: number;
  /** Extra settings for every process (over {@link FAST_SETTINGS}). */
  env?: Record<string, string>;
  /** Extra settings per role. */
  roleEnv?: Partial<Record<Role, Record<string, string>>>;
  /** Where each process's output goes (`<name>.log`). @defaultValue a new temporary directory */
  logDir?: string;
  /** How long a process may take to be ready. @defaultValue 60000 */
  readyTimeoutMs?: number;
  /**
   * The file `node` runs for each process, e.g. the tests' compiled bundle (catalytic-bundle.ts),
   * which starts with 1–3 s less CPU than tsx. @defaultValue bin/catalytic.js, as users run it
   */
  entry?: string;
}

/**
 * Settings for a run on one machine: short locks, retries and repair intervals so that faults
 * heal in seconds, small pools (many processes share one PostgreSQL), and request limits out of
 * the way of a load generator.
 */
export const FAST_SETTINGS: Readonly<Record<string, string>> = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'info',
  LOG_PRETTY: 'false',
  DATABASE_CREATE: 'false',
  DATABASE_POOL_MAX: '6',
  HOST: '127.0.0.1',
  SHUTDOWN_GRACE_MS: '6000',
  KERNEL_THREADS: '1',
  WORKER_CONCURRENCY: '2',
  JOB_LOCK_MS: '3000',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_TIMEOUT_MS: '5000',
  WEBHOOK_RETRY_SCHEDULE_MS: '500,1000,2000,3000,5000,8000,13000,21000',
  WEBHOOK_RETRY_POLL_MS: '250',
  // A scheduler killed mid-retry holds its delivery for 2 × 5 s + this before another takes it over.
  WEBHOOK_LEASE_MARGIN_MS: '2000',
  RECONCILE_EVERY_MS: '2000',
  RATE_LIMIT_CREDENTIAL_PER_SECOND: '100000',
  BACKUP_CRON: 'off',
};

/** The line each role logs once it does its work (the API is ready when `/ready` says so). */
const READY_LINE: Record<Exclude<Role, 'api'>, RegExp> = {
  worker: /job pipeline started/,
  scheduler: /maintenance schedules declared/,
};

/** Output kept in memory per process (the log file has all of it). */
const OUTPUT_KEEP = 4 * 1024 * 1024;

export interface ClusterProcess {
  role: Role;
  /** `api-1`, `worker-2`, … */
  name: string;
  /** The API's port (PORT), or the probe port (METRICS_PORT) of a worker or scheduler. */
  port: number;
  /** `http://127.0.0.1:<port>`: the API, or the probe server of a worker or scheduler. */
  url: string;
  /** The running incarnation's pid, or undefined while stopped. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** How many times it was started. */
  readonly starts: number;
  /** Output of the current (or last) incarnation, at most the last few MB. */
  output(): string;
  /** Resolves with the first line of the current incarnation matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export interface Cluster {
  /** Settings every process shares (DATABASE_URL, REDIS_*, REDIS_PREFIX, …). */
  env: Record<string, string>;
  databaseUrl: string;
  databaseName: string;
  redisPrefix: string;
  logDir: string;
  processes: ClusterProcess[];
  apis: ClusterProcess[];
  workers: ClusterProcess[];
  schedulers: ClusterProcess[];
  /** URLs of the APIs that run now. */
  apiUrls(): string[];
  /** Sends `signal` (SIGKILL by default) and resolves once the process is gone. */
  kill(process: ClusterProcess, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped process again (same port) and waits until it is ready. */
  start(process: ClusterProcess): Promise<void>;
  /** Kills (SIGKILL) and starts again. */
  restart(process: ClusterProcess): Promise<void>;
  /** Starts one more process of `role`. */
  add(role: Role): Promise<ClusterProcess>;
  /** Resolves when every running API answers `/ready` with 200. */
  ready(timeoutMs?: number): Promise<void>;
  /** Stops every process (SIGTERM, then SIGKILL after the grace period) and drops the database. */
  stop(options?: { keepLogs?: boolean }): Promise<void>;
}

async function createDatabase(serverUrl: string, name: string, template?: string): Promise<void> {
  const sql = `create database ${pg.escapeIdentifier(name)}${template ? ` template ${pg.escapeIdentifier(template)}` : ''}`;
  await withServerClient(serverUrl, async (client) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(sql);
        return;
      } catch (err) {
        // Someone else cloning the template at the same instant: PostgreSQL refuses one; retry.
        if ((err as { code?: string }).code !== '55006' || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  });
  if (!template) {
    const db = createDb({ url: `${serverUrl}/${name}` });
    try {
      await migrateLatest(db);
    } finally {
      await db.destroy();
    }
  }
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withServerClient(serverUrl, (client) => client.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`));
}

class Process implements ClusterProcess {
  private child: ChildProcess | undefined;
  private text = '';
  private log: WriteStream | undefined;
  private readonly listeners = new Set<() => void>();
  starts = 0;
  exited: Promise<void> = Promise.resolve();

  constructor(
    readonly role: Role,
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly logDir: string,
    private readonly entry: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.text;
  }

  spawn(): void {
    this.starts++;
    this.text = '';
    this.log ??= createWriteStream(join(this.logDir, `${this.name}.log`), { flags: 'a' });
    this.log.write(`---- start ${this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, [this.entry, this.role], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const onData = (chunk: Buffer) => {
      const s = chunk.toString('utf8');
      this.log?.write(s);
      this.text += s;
      if (this.text.length > OUTPUT_KEEP) this.text = this.text.slice(-OUTPUT_KEEP / 2);
      for (const listener of this.listeners) listener();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.log?.write(`---- exit ${code ?? signal} at ${new Date().toISOString()}\n`);
        for (const listener of this.listeners) listener();
        resolve();
      }),
    );
  }

  waitForLine(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const child = this.child;
    return new Promise((resolve, reject) => {
      let scanned = 0;
      const check = () => {
        const lines = this.text.slice(scanned).split('\n');
        const found = lines.slice(0, -1).find((l) => pattern.test(l));
        if (found !== undefined) return done(() => resolve(found));
        scanned = Math.max(scanned, this.text.lastIndexOf('\n') + 1);
        if (!child || child.exitCode !== null || child.signalCode !== null) {
          done(() => reject(new Error(`${this.name} exited before printing ${pattern}:\n${this.text.slice(-4000)}`)));
        }
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${this.name}: timed out waiting for ${pattern}:\n${this.text.slice(-4000)}`))), timeoutMs);
      const done = (fn: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        fn();
      };
      this.listeners.add(check);
      check();
    });
  }

  async signal(signal: NodeJS.Signals): Promise<void> {
    if (!this.running) return;
    this.child?.kill(signal);
    await this.exited;
  }

  /** Synchronous last resort (process exit). */
  killNow(): void {
    if (this.running) this.child?.kill('SIGKILL');
  }

  closeLog(): Promise<void> {
    const log = this.log;
    this.log = undefined;
    return new Promise((resolve) => (log ? log.end(resolve) : resolve()));
  }
}

async function apiReady(url: string): Promise<boolean> {
  const response = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(3000) });
  await response.arrayBuffer();
  return response.status === 200;
}

/** Starts the cluster; on any failure everything started so far is stopped before rethrowing. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const logDir = options.logDir ?? mkdtempSync(join(tmpdir(), 'catalytic-cluster-logs-'));
  const databaseName = `catalytic_t_${Math.floor(Date.now() / 1000)}_cluster_${randomBytes(4).toString('hex')}`;
  const databaseUrl = `${options.postgresServerUrl}/${databaseName}`;
  const redisPrefix = `cat_c_${randomBytes(4).toString('hex')}`;
  // One signing key for every API, so a token one API issues is accepted by the others.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const env: Record<string, string> = {
    ...FAST_SETTINGS,
    DATABASE_URL: databaseUrl,
    REDIS_URL: options.redisUrl ?? 'redis://127.0.0.1:6379',
    ...(options.redisClusterNodes ? { REDIS_CLUSTER_NODES: options.redisClusterNodes } : {}),
    REDIS_PREFIX: redisPrefix,
    JWT_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ...options.env,
  };
  const processes: Process[] = [];
  const counters: Record<Role, number> = { api: 0, worker: 0, scheduler: 0 };
  let databaseCreated = false;
  const unregister = onExit(() => {
    for (const p of processes) p.killNow();
  });

  const make = async (role: Role): Promise<Process> => {
    const port = await freePort();
    const name = `${role}-${++counters[role]}`;
    const roleEnv = { ...env, ...options.roleEnv?.[role], ...(role === 'api' ? { PORT: String(port), METRICS_PORT: '0' } : { METRICS_PORT: String(port) }) };
    const p = new Process(role, name, port, roleEnv, logDir, options.entry ?? BIN);
    processes.push(p);
    return p;
  };

  const waitReady = async (p: Process): Promise<void> => {
    if (p.role === 'api') {
      await Promise.race([
        waitUntil(() => apiReady(p.url), readyTimeoutMs, `${p.name} /ready`, 200),
        p.exited.then(() => {
          throw new Error(`${p.name} exited while starting:\n${p.output().slice(-4000)}`);
        }),
      ]);
    } else {
      await p.waitForLine(READY_LINE[p.role], readyTimeoutMs);
    }
  };

  const start = async (p: ClusterProcess): Promise<void> => {
    const own = p as Process;
    if (own.running) return;
    own.spawn();
    await waitReady(own);
  };

  const stop = async (stopOptions: { keepLogs?: boolean } = {}): Promise<void> => {
    const graceMs = Number(env.SHUTDOWN_GRACE_MS) + 5000;
    await Promise.all(
      processes.map(async (p) => {
        if (!p.running) return;
        const forced = setTimeout(() => p.killNow(), graceMs);
        await p.signal('SIGTERM');
        clearTimeout(forced);
      }),
    );
    await Promise.all(processes.map((p) => p.closeLog()));
    unregister();
    if (databaseCreated) await dropDatabase(options.postgresServerUrl, databaseName).catch(() => undefined);
    if (!stopOptions.keepLogs && !options.logDir) rmSync(logDir, { recursive: true, force: true });
  };

  try {
    await createDatabase(options.postgresServerUrl, databaseName, options.templateDatabase);
    databaseCreated = true;
    const wanted: Array<[Role, number]> = [
      ['api', options.apis ?? 2],
      ['worker', options.workers ?? 2],
      ['scheduler', options.schedulers ?? 2],
    ];
    for (const [role, count] of wanted) for (let i = 0; i < count; i++) await make(role);
    // All at once: start-up is mostly loading code, and the machine has few cores.
    await Promise.all(processes.map((p) => start(p)));
  } catch (err) {
    await stop({ keepLogs: true }).catch(() => undefined);
    throw err;
  }

  const byRole = (role: Role) => processes.filter((p) => p.role === role);
  return {
    env,
    databaseUrl,
    databaseName,
    redisPrefix,
    logDir,
    get processes() {
      return [...processes];
    },
    get apis() {
      return byRole('api');
    },
    get workers() {
      return byRole('worker');
    },
    get schedulers() {
      return byRole('scheduler');
    },
    apiUrls: () => byRole('api').filter((p) => p.running).map((p) => p.url),
    kill: (p, signal = 'SIGKILL') => (p as Process).signal(signal),
    start,
    async restart(p) {
      await (p as Process).signal('SIGKILL');
      await start(p);
    },
    async add(role) {
      const p = await make(role);
      await start(p);
      return p;
    },
    async ready(timeoutMs = 30_000) {
      await Promise.all(
        byRole('api')
          .filter((p) => p.running)
          .map((p) => waitUntil(() => apiReady(p.url), timeoutMs, `${p.name} /ready`, 200)),
      );
    },
    stop,
  } satisfies Cluster;
}
