/**
 * The server roles of the `catalytic` executable: `all`, `api`, `worker`, `scheduler`, `migrate`.
 * Each checks its dependencies first and says in one line which one does not answer.
 */
import { randomBytes } from 'node:crypto';
import { operatorAccessConfigured } from '../api/admin/operator-auth.ts';
import { ADMIN_QUEUES_PATH } from '../api/admin/queue-board.ts';
import { createApiDeps } from '../api/deps.ts';
import { ApiServer } from '../api/server.ts';
import { schedulerServices } from '../scheduler/index.ts';
import { type Config, ConfigError, loadConfig, metricsOnApiPort } from '../shared/config.ts';
import { checkPostgres, checkRedis, DependencyError } from '../shared/dependencies.ts';
import { Lifecycle } from '../shared/lifecycle.ts';
import { PortUnavailableError } from '../shared/listen.ts';
import { reniceThreads } from '../shared/process-priority.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { loginCanBypassRls } from '../shared/db.ts';
import { migrateLatest } from '../shared/migrate.ts';
import { ProbeServer } from '../shared/probe-server.ts';
import { createRuntime, type Runtime } from '../shared/runtime.ts';
import type { Service } from '../shared/service.ts';
import { workerServices } from '../worker/index.ts';

export const SERVER_ROLES = ['all', 'api', 'worker', 'scheduler', 'migrate'] as const;
export type ServerRole = (typeof SERVER_ROLES)[number];

/** Process exit codes of the server roles (sysexits). */
export const EXIT = { ok: 0, failed: 1, unavailable: 69, config: 78 } as const;

interface RolePlan {
  services: Service[];
  api?: ApiServer;
}

function planRole(role: Exclude<ServerRole, 'migrate'>, runtime: Runtime): RolePlan {
  switch (role) {
    case 'all': {
      const api = new ApiServer(createApiDeps(runtime));
      return { services: [api, ...apiMetricsServer(runtime), ...workerServices(runtime), ...schedulerServices(runtime)], api };
    }
    case 'api': {
      const api = new ApiServer(createApiDeps(runtime));
      return { services: [api, ...apiMetricsServer(runtime)], api };
    }
    case 'worker':
      return { services: [new ProbeServer(runtime), ...workerServices(runtime)] };
    case 'scheduler':
      // The scheduler reports queue depth (as the API does); workers, which scale out, do not.
      return { services: [new ProbeServer(runtime, { queueCounts: true }), ...schedulerServices(runtime)] };
  }
}

/** In production without METRICS_TOKEN the API's metrics are served on METRICS_PORT only. */
function apiMetricsServer(runtime: Runtime): Service[] {
  return metricsOnApiPort(runtime.config) ? [] : [new ProbeServer(runtime, { queueCounts: true })];
}

/** The API's sessions run as catalytic_app anyway; a login that could leave it deserves a warning. */
async function warnIfLoginBypassesRls(runtime: Runtime, logger: Logger): Promise<void> {
  if (await loginCanBypassRls(runtime.appDb)) {
    logger.warn(
      'DATABASE_URL logs in as a superuser or BYPASSRLS role: use a NOBYPASSRLS member of catalytic_app for the API, and DATABASE_OWNER_URL for the owner',
    );
  }
}

async function migrate(config: Config, logger: Logger): Promise<void> {
  const runtime = createRuntime(config, { name: 'catalytic:migrate', logger });
  try {
    const applied = await migrateLatest(runtime.db);
    logger.info({ applied }, applied.length ? `applied ${applied.length} migration(s)` : 'schema is current');
  } finally {
    await runtime.close();
  }
}

/**
 * In development without operator credentials, a generated password opens the queue board for
 * this run, so it is there after `npm start`; production keeps requiring configured ones.
 */
function developmentOperator(config: Config): Pick<Config, 'ADMIN_USER' | 'ADMIN_PASSWORD'> | undefined {
  if (config.NODE_ENV !== 'development' || operatorAccessConfigured(config)) return undefined;
  return { ADMIN_USER: 'operator', ADMIN_PASSWORD: randomBytes(18).toString('base64url') };
}

/**
 * WORKER_NICE above 0: beside an API on the same cores the worker runs at a lower CPU priority, so
 * a burst of submissions does not take the cores the API needs to answer them and the jobs wait
 * instead. A system that refuses the change costs only that.
 */
function lowerWorkerPriority(nice: number, logger: Logger): void {
  if (nice === 0) return;
  try {
    reniceThreads(process.pid, nice);
  } catch (err) {
    logger.warn({ err, nice }, 'could not lower the worker\'s CPU priority (WORKER_NICE)');
  }
}

/** A service that only runs a step at start-up (checks, migrations, stopping a one-shot role). */
function step(name: string, run: () => Promise<void>): Service {
  return { name, start: run, close: async () => undefined };
}

/** Runs one server role until it is signalled to stop; resolves with the exit code. */
export async function runRole(role: ServerRole): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`catalytic: ${(err as Error).message}\n`);
    return EXIT.config;
  }
  const generatedOperator = role === 'all' || role === 'api' ? developmentOperator(config) : undefined;
  if (generatedOperator) config = { ...config, ...generatedOperator };
  const logger = createLogger(config, `catalytic:${role}`);
  // Before the runtime and the kernel threads start, so every thread inherits it.
  if (role === 'worker') lowerWorkerPriority(config.WORKER_NICE, logger);
  const runtime = role === 'migrate' ? undefined : createRuntime(config, { name: `catalytic:${role}`, logger });
  let plan: RolePlan;
  try {
    plan = runtime && role !== 'migrate' ? planRole(role, runtime) : { services: [] };
  } catch (err) {
    // Settings checked while building the role (e.g. an unreadable JWT key file).
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`catalytic: ${err.message}\n`);
    await runtime?.close();
    return EXIT.config;
  }
  const lifecycle = new Lifecycle({
    logger,
    graceMs: config.SHUTDOWN_GRACE_MS,
    stopWithParent: config.STOP_WITH_PARENT,
    release: async () => runtime?.close(),
    onStarted: () => {
      if (role === 'migrate') return;
      const url = plan.api?.url;
      const queues = url && operatorAccessConfigured(config) ? `${url}${ADMIN_QUEUES_PATH}` : undefined;
      const metrics = url && metricsOnApiPort(config) ? `${url}/metrics` : `http://localhost:${config.METRICS_PORT}/metrics`;
      const where = url ? { api: url, health: `${url}/health`, docs: `${url}/docs`, metrics, ...(queues ? { queues } : {}) } : { metrics };
      const extra = url ? ` (docs ${url}/docs${queues ? `, queues ${queues}` : ''})` : '';
      logger.info(where, `catalytic ${role} is running${url ? ` at ${url}` : ''}${extra}`);
      if (queues && generatedOperator) {
        // Shown once, on the terminal that started a development server; never logged.
        process.stdout.write(
          `Queue board ${queues}: user ${generatedOperator.ADMIN_USER}, password ${generatedOperator.ADMIN_PASSWORD} ` +
            '(generated for this run; set ADMIN_USER and ADMIN_PASSWORD to choose)\n',
        );
      }
    },
  });

  // Checks and migrations run as services too, so a signal during them is handled like any other.
  const services: Service[] = [
    step('check-postgres', () => checkPostgres(config)),
    ...(role === 'migrate' ? [] : [step('check-redis', () => checkRedis(config))]),
    ...(role === 'all' || role === 'migrate' ? [step('migrate', () => migrate(config, logger))] : []),
    ...(runtime && (role === 'api' || role === 'all') && config.NODE_ENV === 'production'
      ? [step('check-api-login', () => warnIfLoginBypassesRls(runtime, logger))]
      : []),
    ...plan.services,
    ...(role === 'migrate' ? [step('done', async () => lifecycle.requestStop())] : []),
  ];
  try {
    const code = await lifecycle.run(services);
    if (role !== 'migrate') logger.info({ code }, `catalytic ${role} stopped`);
    return code;
  } catch (err) {
    if (err instanceof DependencyError || err instanceof PortUnavailableError) {
      process.stderr.write(`catalytic: ${err.message}\n`);
      return EXIT.unavailable;
    }
    logger.error({ err }, `catalytic ${role} failed to start`);
    return EXIT.failed;
  }
}
