/**
 * Every setting of every role, read from the environment (and a `.env` file when present),
 * validated once at start-up. A bad value stops the process with one line naming the variable.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { operatorPasswordWeakness, PLACEHOLDER_SECRET } from './auth/passwords.ts';
import { DAY, GIB, HOUR, MIB, MINUTE, SECOND } from './units.ts';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });
// 0 asks the OS for a free port (tests, several processes on one machine).
const port = int(0, 65535);
const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { error: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );
const optionalSecret = z.string().min(1).optional();
// A comma-separated list of durations in milliseconds, e.g. `5000,30000,120000`.
const msList = z.string().regex(/^\s*\d+\s*(,\s*\d+\s*)*$/, { error: 'must be comma-separated milliseconds, e.g. 5000,30000' });
const parseMsList = (v: string): number[] => v.split(',').map((part) => Number(part.trim()));

/** The environment schema: variable names as keys; each default is the local-development value. */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: bool.optional(),

  // The API's login: its sessions run as the application role, which cannot bypass row-level security.
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/catalytic'),
  // The schema owner, for migrations, workers, the scheduler and backups (cross-tenant work); DATABASE_URL when unset.
  DATABASE_OWNER_URL: url(['postgres:', 'postgresql:']).optional(),
  DATABASE_POOL_MIN: int(0, 100).default(0),
  DATABASE_POOL_MAX: int(1, 500).default(10),
  // How long opening a PostgreSQL connection may take before the request that needed it gets a 503.
  DATABASE_CONNECT_TIMEOUT_MS: int(100, 120_000).default(5000),
  DATABASE_CREATE: bool.default(true),

  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: z.string().optional(),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_{}.-]{1,64}$/, { error: 'must be 1-64 of A-Z a-z 0-9 : _ { } . -' }).default('catalytic'),

  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port.default(8000),
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  METRICS_PORT: port.default(9464),
  METRICS_TOKEN: optionalSecret,
  BODY_LIMIT_BYTES: int(1024, 100 * 1024 * 1024).default(1024 * 1024),
  // A slow client is cut off once its headers, or its whole request, took longer than these (slowloris).
  HTTP_HEADERS_TIMEOUT_MS: int(1000).default(10 * SECOND),
  HTTP_REQUEST_TIMEOUT_MS: int(1000).default(30 * SECOND),
  TRUST_PROXY: bool.default(false),

  WORKER_CONCURRENCY: int(1, 1000).default(4),
  // Fetches one worker process has in flight at once (never more than WORKER_CONCURRENCY): one
  // at a time, a fetch's round trip and its wait for the event loop bounded the jobs a worker started.
  WORKER_FETCHES_AT_ONCE: int(1, 64).default(4),
  // The CPU priority (Linux nice, 0–19) of a `catalytic worker` process, every thread: above 0, an
  // API on the same cores answers first and the jobs wait (docs/operations.md › CPU priority).
  // Only among processes that share a CPU group: pods and containers are weighed by their own
  // CPU requests. `catalytic all` is one process and keeps 0.
  WORKER_NICE: int(0, 19).default(0),
  KERNEL_THREADS: int(1, 256).default(availableParallelism()),
  // Jobs of at most this much work (cells, times steps for diffusion) run on the worker's own
  // thread: cheaper than a trip to a kernel thread, and over in microseconds. 0 = never.
  KERNEL_INLINE_MAX_CELLS: int(0, 1_000_000).default(4096),
  KERNEL_WARMUP_RUNS: int(0, 1000).default(30),
  JOB_LOCK_MS: int(1000).default(30 * SECOND),
  // Most working memory one job may reserve; larger jobs are refused at submit (422). Read by the
  // API and by workers (a worker whose budget is below it warns: such jobs wait for a larger one).
  MAX_JOB_MEMORY_BYTES: int(1024 * 1024).default(4 * GIB),
  // Memory one worker process lets its running jobs reserve in total; unset = the cgroup's
  // memory limit (or the machine's RAM) minus WORKER_MEMORY_HEADROOM_BYTES.
  WORKER_MEMORY_BUDGET_BYTES: int(1024 * 1024).optional(),
  // What the process itself needs beside its jobs (heap, threads, buffers) when the budget is derived.
  WORKER_MEMORY_HEADROOM_BYTES: int(0).default(512 * MIB),
  // Most jobs one worker write covers (group commit of starts, and of final states with their
  // results and events); 1 writes each job alone.
  WORKER_WRITE_BATCH_MAX: int(1, 1000).default(64),
  JOB_MAX_ATTEMPTS: int(1, 100).default(3),
  // Most submissions of one tenant written by one transaction (group commit); 1 writes each alone.
  SUBMIT_BATCH_MAX: int(1, 1000).default(100),
  // Writes of one tenant's submissions in flight at once in one API process (each a group commit).
  SUBMIT_WRITES_PER_TENANT: int(1, 16).default(1),
  // Most API processes that run at once (k8s/base/api-hpa.yaml's maxReplicas): with the two above
  // and DATABASE_POOL_MAX it bounds one tenant's single submissions in flight, which sizes the
  // monthly jobs quota's lock-free margin (api/jobs/submit-quota.ts).
  API_PROCESSES_MAX: int(1, 10_000).default(10),
  JOB_WAIT_MAX_PER_TENANT: int(0, 10_000).default(64),
  // A batch's small jobs share queue entries (chunks): at most this many jobs, and at most this
  // much compute (cells, times steps for diffusion) per chunk; a larger job gets an entry of its own.
  BATCH_CHUNK_MAX_JOBS: int(1, 1000).default(100),
  BATCH_CHUNK_MAX_CELLS: int(1).default(1_000_000),
  SHUTDOWN_GRACE_MS: int(0).default(25 * SECOND),
  // Stop as on SIGTERM when the process that started this one exits (a supervisor killed with -9
  // cannot pass its signal on, and its children would run on as orphans).
  STOP_WITH_PARENT: bool.default(false),

  JWT_KEYS_DIR: z.string().min(1).default('.keys'),
  JWT_PRIVATE_KEY: optionalSecret,
  JWT_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  JWT_PREVIOUS_PUBLIC_KEYS_FILE: z.string().min(1).optional(),
  JWT_ISSUER: z.string().min(1).default('catalytic'),
  ACCESS_TOKEN_TTL_MS: int(SECOND).default(15 * MINUTE),
  REFRESH_TOKEN_TTL_MS: int(SECOND).default(30 * 24 * 60 * MINUTE),
  // Per client IP on the sign-in and sign-up routes (brute force, mass sign-up).
  RATE_LIMIT_LOGIN_PER_5MIN: int(1).default(5),
  RATE_LIMIT_REGISTER_PER_HOUR: int(1).default(3),
  // Per account, from any address: consecutive wrong passwords that lock its sign-in, and for how long.
  LOGIN_LOCKOUT_FAILURES: int(1).default(10),
  LOGIN_LOCKOUT_MS: int(SECOND, DAY).default(15 * MINUTE),
  // Burst cap per user token or API key, under the tenant's per-minute plan limit.
  RATE_LIMIT_CREDENTIAL_PER_SECOND: int(1).default(100),
  // Per client IP, per API process: 401s a second before its requests without credentials get 429.
  RATE_LIMIT_UNAUTHENTICATED_PER_SECOND: int(1).default(20),
  // Credential lookups (API key, token user) kept in memory this long; 0 reads them on every request.
  PRINCIPAL_CACHE_TTL_MS: int(0, 10 * MINUTE).default(30 * SECOND),
  PRINCIPAL_CACHE_MAX_ENTRIES: int(1, 10_000_000).default(10_000),
  // API calls are counted in memory and written to usage_counters this often.
  USAGE_FLUSH_MS: int(10, MINUTE).default(SECOND),

  // Webhook secrets are sealed at rest with this key (base64 of 32 bytes); required in production.
  SECRETS_KEY: optionalSecret,
  SECRETS_KEY_FILE: z.string().min(1).optional(),
  // Earlier keys, comma-separated: they still open secrets until the scheduler reseals them.
  SECRETS_PREVIOUS_KEYS: optionalSecret,

  ADMIN_USER: z.string().min(1).optional(),
  ADMIN_PASSWORD: optionalSecret,
  ADMIN_TOKEN: optionalSecret,
  ADMIN_READ_ONLY: bool.default(true),
  // Who settles upgrades to paid plans; `manual`: an operator approves each request.
  BILLING_PROVIDER: z.enum(['manual']).default('manual'),

  WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool.default(false),
  WEBHOOK_TIMEOUT_MS: int(100).default(10 * SECOND),
  // Delays before each retry of a failed delivery (jitter ±20% is added); the first attempt is
  // immediate, so a delivery gets at most 1 + this many attempts.
  WEBHOOK_RETRY_SCHEDULE_MS: msList.default('5000,30000,120000,600000,3600000,21600000,86400000').transform(parseMsList),
  WEBHOOK_RETRY_POLL_MS: int(50).default(5 * SECOND),
  // How long past twice the attempt timeout a delivery stays leased to its attempt: another sender
  // takes it over only after that, so the margin is how long a sender that died mid-attempt delays it.
  WEBHOOK_LEASE_MARGIN_MS: int(0).default(30 * SECOND),
  WEBHOOK_DISABLE_AFTER_MS: int(SECOND).default(3 * DAY),
  WEBHOOK_SENDER_CONCURRENCY: int(1, 1000).default(8),
  // Attempts of one tenant in flight at once across every sender (first attempts and retries):
  // its other due deliveries wait, so a tenant whose endpoints hang cannot take every slot.
  WEBHOOK_ATTEMPTS_PER_TENANT: int(1, 1000).default(4),
  // Test events and redeliveries, attempted during the API request: how long each may take (DNS
  // and HTTP), and how many of one tenant may be in flight in one API process (more get 429).
  WEBHOOK_TEST_TIMEOUT_MS: int(100, MINUTE).default(5 * SECOND),
  WEBHOOK_TEST_CONCURRENCY_PER_TENANT: int(1, 100).default(2),

  // Password reset: how long a link works, and how many requests are taken per client IP and per
  // address (refused with 429, the same for any address) and per account (beyond it, silently no mail).
  PASSWORD_RESET_TTL_MS: int(MINUTE, DAY).default(30 * MINUTE),
  PASSWORD_RESET_PER_IP_PER_HOUR: int(1).default(30),
  PASSWORD_RESET_PER_ADDRESS_PER_HOUR: int(1).default(5),
  PASSWORD_RESET_PER_ACCOUNT_PER_DAY: int(1).default(10),
  // A reset request is answered this long after it arrived, whether or not the address has an
  // account, so the answer's timing tells nothing; the work goes on behind the answer.
  PASSWORD_RESET_ANSWER_MS: int(0, 10 * SECOND).default(250),

  // How long an address-check link works.
  EMAIL_VERIFICATION_TTL_MS: int(HOUR, 30 * DAY).default(2 * DAY),
  // How long an invitation link works, and how many invitations one tenant may send a day.
  INVITATION_TTL_MS: int(HOUR, 30 * DAY).default(3 * DAY),
  INVITATIONS_PER_TENANT_PER_DAY: int(1).default(50),

  // Outgoing mail. `log` writes each message (with its links) to the log instead of sending it:
  // the development default, refused in production, where the links are secrets of their users;
  // `off` sends nothing (production without SMTP_URL).
  MAIL_TRANSPORT: z.enum(['log', 'smtp', 'off']).optional(),
  // smtp://user@host:587 (STARTTLS when offered) or smtps://host:465; the password may sit in SMTP_PASSWORD.
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  SMTP_PASSWORD: optionalSecret,
  SMTP_TIMEOUT_MS: int(100, MINUTE).default(10 * SECOND),
  MAIL_FROM: z
    .string()
    .regex(/^[^<>\r\n]*<[^<>\s@]+@[^<>\s@]+>$|^[^<>\s@]+@[^<>\s@]+$/, { error: 'must be an address, or a name and <address>' })
    .default('Catalytic <no-reply@catalytic.localhost>'),
  // A message that fails for a transient reason is tried again after MAIL_RETRY_BASE_MS, then
  // twice as long each time, up to MAIL_MAX_ATTEMPTS attempts in all.
  MAIL_MAX_ATTEMPTS: int(1, 50).default(8),
  MAIL_RETRY_BASE_MS: int(10, HOUR).default(5 * SECOND),
  MAIL_SEND_CONCURRENCY: int(1, 100).default(4),
  // How often the scheduler mails recorded notifications, and checks every tenant's quotas for 80% and 100%.
  NOTIFY_POLL_MS: int(50).default(5 * SECOND),
  QUOTA_WATCH_EVERY_MS: int(SECOND).default(MINUTE),

  RECONCILE_EVERY_MS: int(SECOND).default(MINUTE),
  RETENTION_EVERY_MS: int(SECOND).default(HOUR),
  RETENTION_BATCH_SIZE: int(1, 100_000).default(1000),

  /** Where blob bytes (uploaded maps, result artefacts) live (shared/blobs/). */
  BLOB_BACKEND: z.enum(['postgres', 's3']).default('postgres'),
  // The S3-compatible store of BLOB_BACKEND=s3 (shared/blobs/s3-backend.ts).
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'must be an S3 bucket name (3-63 of a-z 0-9 . -)' }).optional(),
  S3_ENDPOINT: url(['http:', 'https:']).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_FORCE_PATH_STYLE: bool.default(false),
  S3_PREFIX: z.string().regex(/^([A-Za-z0-9!_.*'()-]+\/)*$/, { error: 'must be empty or end with / (e.g. catalytic/blobs/)' }).default(''),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: optionalSecret,
  S3_PART_BYTES: int(5 * MIB, GIB).default(8 * MIB),

  BACKUP_DIR: z.string().min(1).default('.backups'),
  BACKUP_KEEP: int(1, 1000).default(7),
  BACKUP_CRON: z.string().min(1).default('0 3 * * *'),
});

/** Typed settings after validation and defaults. */
export type Config = z.infer<typeof configSchema>;

/** A setting that failed validation; its message is one line naming the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly variable: string, reason: string) {
    super(`Invalid setting ${variable}: ${reason}`);
  }
}

/**
 * Validates an environment into a Config. Empty strings count as unset, so `FOO=` in a `.env`
 * file falls back to the default instead of failing.
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const present: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') present[key] = value.trim();
  }
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(variable, issue?.message ?? 'invalid');
  }
  const config = parsed.data;
  // A receiver on the developer's own machine (`catalytic webhooks listen`) works out of the box.
  if (present.WEBHOOK_ALLOW_PRIVATE_NETWORKS === undefined && config.NODE_ENV === 'development') {
    config.WEBHOOK_ALLOW_PRIVATE_NETWORKS = true;
  }
  if (config.HTTP_REQUEST_TIMEOUT_MS < config.HTTP_HEADERS_TIMEOUT_MS) {
    throw new ConfigError('HTTP_REQUEST_TIMEOUT_MS', `must not be less than HTTP_HEADERS_TIMEOUT_MS (${config.HTTP_HEADERS_TIMEOUT_MS})`);
  }
  if (config.ADMIN_USER && !config.ADMIN_PASSWORD) {
    throw new ConfigError('ADMIN_PASSWORD', 'is required when ADMIN_USER is set');
  }
  config.MAIL_TRANSPORT ??= config.SMTP_URL ? 'smtp' : config.NODE_ENV === 'production' ? 'off' : 'log';
  if (config.MAIL_TRANSPORT === 'smtp' && !config.SMTP_URL) throw new ConfigError('SMTP_URL', 'is required when MAIL_TRANSPORT is smtp');
  if (config.BLOB_BACKEND === 's3' && !config.S3_BUCKET) throw new ConfigError('S3_BUCKET', 'is required when BLOB_BACKEND is s3');
  if (!config.S3_ACCESS_KEY_ID !== !config.S3_SECRET_ACCESS_KEY) {
    throw new ConfigError(config.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID', 'is required with the other S3 key (or set neither: the AWS default credential chain)');
  }
  if (config.NODE_ENV === 'production') checkProductionSecrets(config);
  for (const variable of ['SECRETS_KEY', 'SECRETS_PREVIOUS_KEYS'] as const) {
    for (const key of (config[variable] ?? '').split(',').filter((k) => k.trim())) {
      if (Buffer.from(key.trim(), 'base64').length !== 32 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(key.trim())) {
        throw new ConfigError(variable, 'must be 32 bytes in base64 (openssl rand -base64 32)');
      }
    }
  }
  return config;
}

/** Bearer tokens an operator sets (ADMIN_TOKEN, METRICS_TOKEN) are this long at least in production. */
export const OPERATOR_TOKEN_MIN_LENGTH = 32;

/** Production refuses to start without a signing key, or with guessable operator credentials. */
function checkProductionSecrets(config: Config): void {
  if (!config.JWT_PRIVATE_KEY && !config.JWT_PRIVATE_KEY_FILE) {
    throw new ConfigError('JWT_PRIVATE_KEY_FILE', 'is required in production (or set JWT_PRIVATE_KEY)');
  }
  if (config.ADMIN_PASSWORD) {
    // Longer than a sign-up's password, with the same strength check; the user name counts as a known word.
    const weakness = operatorPasswordWeakness(config.ADMIN_PASSWORD, [config.ADMIN_USER ?? '', 'operator', 'admin', 'catalytic']);
    if (weakness) throw new ConfigError('ADMIN_PASSWORD', `${weakness} (production refuses weak operator passwords)`);
  }
  for (const variable of ['ADMIN_TOKEN', 'METRICS_TOKEN'] as const) {
    const token = config[variable];
    if (token !== undefined && (token.length < OPERATOR_TOKEN_MIN_LENGTH || PLACEHOLDER_SECRET.test(token))) {
      throw new ConfigError(variable, `must be at least ${OPERATOR_TOKEN_MIN_LENGTH} random characters in production (e.g. openssl rand -hex 24)`);
    }
  }
  if (config.MAIL_TRANSPORT === 'log') {
    throw new ConfigError('MAIL_TRANSPORT', 'cannot be log in production: mail carries one-time links that must not be written to the log (set SMTP_URL)');
  }
  if (!config.SECRETS_KEY && !config.SECRETS_KEY_FILE) {
    throw new ConfigError('SECRETS_KEY_FILE', 'is required in production (or set SECRETS_KEY): it encrypts webhook secrets at rest');
  }
}

/**
 * Whether the API serves `/metrics` on its own port. In production only behind METRICS_TOKEN;
 * without one, the API serves it on METRICS_PORT instead (not exposed to clients).
 */
export function metricsOnApiPort(config: Config): boolean {
  return config.NODE_ENV !== 'production' || config.METRICS_TOKEN !== undefined;
}

/** Reads `.env` (if present, without overriding real variables) and validates the environment. */
export function loadConfig(envFile = '.env'): Config {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return parseConfig(process.env);
}

/** The connection of cross-tenant work (migrations, workers, scheduler, backups). */
export function ownerDatabaseUrl(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_OWNER_URL'>): string {
  return config.DATABASE_OWNER_URL ?? config.DATABASE_URL;
}

/** The URL clients use to reach the API, for links and the start-up banner. */
export function publicUrl(config: Config): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL.replace(/\/$/, '');
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  return `http://${host}:${config.PORT}`;
}
