/**
 * PostgreSQL access with knex. Tenant work runs in `withTenant`, which switches the transaction to
 * the application role (which cannot bypass row-level security) and sets `app.tenant_id`, so a
 * query that forgets its `where tenant_id` still sees only the tenant's rows. The API's own pool
 * (`createAppDbFromConfig`) runs every session as that role, so outside a tenant it sees nothing
 * but what the SECURITY DEFINER functions of the migrations hand it.
 */
import knex, { type Knex } from 'knex';
import pg from 'pg';
import { type Config, ownerDatabaseUrl } from './config.ts';
import type { Logger } from './logger.ts';
import { parseTimestamptz } from './timestamptz.ts';

export type { Knex };
export type Db = Knex;

/**
 * The role tenant transactions switch to, and the API's sessions run as. It cannot bypass
 * row-level security; the migrations create it. In production, the login role in DATABASE_URL is
 * a member of it that cannot bypass row-level security either.
 */
export const APP_ROLE = 'catalytic_app';

/** Creates APP_ROLE when the cluster lacks it: migration 0006, and a restore (roles are cluster-wide; its target may be new). */
export const CREATE_APP_ROLE_SQL = `
  do $$ begin
    if not exists (select 1 from pg_roles where rolname = '${APP_ROLE}') then
      create role ${APP_ROLE} nologin nobypassrls;
    end if;
  exception when duplicate_object or unique_violation then null;
  end $$`;

// BIGINT (int8) columns hold cell counts below 2^53: read them as numbers, not strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
// timestamptz: the driver's parser, with a fast path for the UTC form (shared/timestamptz.ts).
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, parseTimestamptz);

export interface DbOptions {
  /** Connection string. */
  url: string;
  /** @defaultValue 0 */
  poolMin?: number;
  /** @defaultValue 10 */
  poolMax?: number;
  /** How long opening a connection may take. @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** Name sent to PostgreSQL so operators can tell roles apart in `pg_stat_activity`. */
  applicationName?: string;
  /** Where knex's own warnings go; without it they are dropped rather than printed as plain text. */
  logger?: Logger;
  /** A role every session switches to as soon as it connects (SET ROLE), e.g. APP_ROLE. */
  sessionRole?: string;
}

/** knex prints its warnings as plain text by default; route them to JSON log lines instead. */
function knexLog(logger: Logger | undefined): Knex.Config['log'] {
  const to = (level: 'warn' | 'error' | 'debug') => (message: unknown) => logger?.[level]({ knex: String(message) }, 'database');
  return { warn: to('warn'), error: to('error'), deprecate: to('warn'), debug: to('debug') };
}

export function createDb(options: DbOptions): Db {
  const url = new URL(options.url);
  if (options.applicationName) url.searchParams.set('application_name', options.applicationName);
  return knex({
    client: 'pg',
    connection: { connectionString: url.toString(), connectionTimeoutMillis: options.connectTimeoutMs ?? 5000 },
    pool: {
      min: options.poolMin ?? 0,
      max: options.poolMax ?? 10,
      // A connection dropped by a PostgreSQL restart is found and replaced instead of reused.
      afterCreate: (conn: pg.Client, done: (err: Error | null, conn: pg.Client) => void) => {
        conn.on('error', () => undefined);
        if (!options.sessionRole) return done(null, conn);
        conn.query(`set role ${pg.escapeIdentifier(options.sessionRole)}`).then(
          () => done(null, conn),
          (err: Error) => done(err, conn),
        );
      },
    },
    acquireConnectionTimeout: 10_000,
    log: knexLog(options.logger),
  });
}

/** The owner's pool (DATABASE_OWNER_URL, else DATABASE_URL): workers, scheduler, migrations. */
export function createDbFromConfig(config: Config, applicationName: string, logger?: Logger): Db {
  return createDb({
    logger,
    url: ownerDatabaseUrl(config),
    poolMin: config.DATABASE_POOL_MIN,
    poolMax: config.DATABASE_POOL_MAX,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    applicationName,
  });
}

/** The API's pool (DATABASE_URL), every session switched to APP_ROLE: row-level security always applies. */
export function createAppDbFromConfig(config: Config, applicationName: string, logger?: Logger): Db {
  return createDb({
    logger,
    url: config.DATABASE_URL,
    poolMin: config.DATABASE_POOL_MIN,
    poolMax: config.DATABASE_POOL_MAX,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    applicationName,
    sessionRole: APP_ROLE,
  });
}

/** The database name in a connection string. */
export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  return name;
}

/**
 * Runs `fn` with a client connected to the server's `postgres` database (the server is the one in
 * `url`, whatever database `url` names): creating and dropping databases happens there.
 */
export async function withServerClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates the database named in `url` when it does not exist, connecting to the server's
 * `postgres` database to do so. Returns true when it created one.
 */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = databaseName(url);
  return withServerClient(url, async (client) => {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`create database ${pg.escapeIdentifier(name)}`);
    } catch (err) {
      // Another replica created it between our check and our create.
      if ((err as { code?: string }).code !== '42P04') throw err;
      return false;
    }
    return true;
  });
}

/**
 * Whether the login behind `db` could leave row-level security behind (a superuser, or a role with
 * BYPASSRLS, could RESET ROLE). The API warns about it in production.
 */
export async function loginCanBypassRls(db: Db): Promise<boolean> {
  const { rows } = await db.raw<{ rows: Array<{ bypass: boolean }> }>(
    'select rolsuper or rolbypassrls as bypass from pg_roles where rolname = session_user',
  );
  return rows[0]?.bypass ?? false;
}

/** Round-trip time of a trivial query, in milliseconds. */
export async function pingDb(db: Db): Promise<number> {
  const started = performance.now();
  await db.raw('select 1');
  return performance.now() - started;
}

/**
 * Runs `fn` in a transaction bound to one tenant: the role is switched to APP_ROLE (subject to
 * row-level security) and `app.tenant_id` is set for the transaction only.
 */
export async function withTenant<T>(
  db: Db,
  tenantId: string,
  fn: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  return db.transaction(async (trx) => {
    // One round trip: `role` is the setting behind SET ROLE, so set_config(…, true) is SET LOCAL ROLE.
    await trx.raw(`select set_config('role', ?, true), set_config('app.tenant_id', ?, true)`, [APP_ROLE, tenantId]);
    return fn(trx);
  });
}

/** SQL text whose every interpolated value was escaped as a literal (see `sql`). */
export interface LiteralSql {
  readonly text: string;
}

/** Values `sql` can interpolate. */
export type SqlValue = string | number | boolean | null;

function literal(value: SqlValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`Not a finite number for SQL: ${value}`);
    return String(value);
  }
  return pg.escapeLiteral(value);
}

/**
 * Builds SQL for the simple query protocol, which has no parameters: each `${value}` becomes an
 * escaped literal (pg's escapeLiteral), so a caller cannot splice text in by mistake.
 */
export function sql(strings: TemplateStringsArray, ...values: SqlValue[]): LiteralSql {
  let text = strings[0] ?? '';
  values.forEach((value, index) => {
    text += literal(value) + (strings[index + 1] ?? '');
  });
  return { text };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The part of knex's client this module uses to borrow a pooled pg connection. */
interface PooledConnections {
  acquireConnection(): Promise<pg.Client>;
  releaseConnection(connection: pg.Client): Promise<void>;
}

/**
 * The settings that make the rest of a one-trip query string run as APP_ROLE for `tenantId`, for
 * that implicit transaction only (`set_config(…, true)` is SET LOCAL); `extra` adds more.
 */
function tenantSwitch(tenantId: string, caller: string, extra = ''): string {
  // The tenant id is escaped like any literal; a uuid check on top keeps nonsense out of the role switch.
  if (!UUID.test(tenantId)) throw new Error(`${caller} needs a tenant uuid`);
  return `select set_config('role', ${literal(APP_ROLE)}, true), set_config('app.tenant_id', ${literal(tenantId)}, true)${extra}`;
}

/**
 * Runs a one-trip query string (the settings, then `statements` statements) on a pooled
 * connection; the last statement's rows.
 */
async function settingsThen<Row>(db: Db, caller: string, text: string, statements: number, prepare?: (connection: pg.Client) => Promise<void>): Promise<Row[]> {
  const pool = db.client as PooledConnections;
  const connection = await pool.acquireConnection();
  try {
    await prepare?.(connection);
    const results = (await connection.query(text)) as unknown as pg.QueryResult[];
    // One result per statement: the settings, then the statements.
    if (!Array.isArray(results) || results.length !== statements + 1) throw new Error(`${caller} runs exactly ${statements} statement${statements === 1 ? '' : 's'}`);
    return (results[statements] as pg.QueryResult).rows as Row[];
  } finally {
    await pool.releaseConnection(connection);
  }
}

/** Runs a one-trip query string (the settings, then one statement) on a pooled connection; the statement's rows. */
function settingsThenOne<Row>(db: Db, caller: string, text: string, prepare?: (connection: pg.Client) => Promise<void>): Promise<Row[]> {
  return settingsThen<Row>(db, caller, text, 1, prepare);
}

/**
 * Runs ONE read statement as a tenant in ONE round trip, with row-level security in force.
 *
 * `withTenant` costs BEGIN, set_config, the statements and COMMIT: four round trips for a single
 * read. Here the settings and the statement travel as one simple-protocol query string, which
 * PostgreSQL runs as one implicit transaction: `set_config(…, true)` (SET LOCAL) switches to
 * APP_ROLE and sets `app.tenant_id` for that transaction only, so the statement after it sees only
 * the tenant's rows, and nothing outlives the query on the pooled connection. If any part fails,
 * the whole implicit transaction fails with it. A write in one trip is `executeAsTenant`.
 * `onConnection` runs once the call holds its pooled connection, before its query is sent.
 */
export async function readAsTenant<Row>(db: Db, tenantId: string, statement: LiteralSql, onConnection?: () => void): Promise<Row[]> {
  return settingsThenOne<Row>(db, 'readAsTenant', `${tenantSwitch(tenantId, 'readAsTenant')}; ${statement.text}`, onConnection && (async () => onConnection()));
}

/**
 * A statement the pg driver keeps on each connection under `name` (the extended protocol's named
 * statement): parsed once per connection, and planned once when PostgreSQL settles on a generic
 * plan (after five custom plans no cheaper than it), where knex's unnamed statements are parsed and
 * planned on every call. For the worker's own statements (the owner's role, no tenant switch).
 * `text` refers to its parameters as $1, $2, …; `name` must change whenever `text` does, and the
 * statement must name the columns it returns (a `*` whose table gains a column after a migration
 * fails a kept plan: "cached plan must not change result type").
 */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

/** Runs a {@link NamedStatement} on a pooled connection (outside any transaction); its rows. */
export async function runNamedStatement<Row>(db: Db, statement: NamedStatement, values: readonly unknown[]): Promise<Row[]> {
  const pool = db.client as PooledConnections;
  const connection = await pool.acquireConnection();
  try {
    const result = await connection.query({ name: statement.name, text: statement.text, values: [...values] });
    return result.rows as Row[];
  } finally {
    await pool.releaseConnection(connection);
  }
}

/**
 * A statement PostgreSQL keeps per connection (PREPARE), so it is parsed and planned once per
 * connection instead of once per call. `params` are its parameters' SQL types, in order; `text`
 * refers to them as $1, $2, …; `name` must change whenever `params` or `text` does.
 */
export interface PreparedStatement {
  readonly name: string;
  readonly params: readonly string[];
  readonly text: string;
}

/** An array of literals as an SQL expression of type `type[]` (`ARRAY[…]::type[]`), for EXECUTE's arguments. */
export function sqlArray(values: readonly SqlValue[], type: string): LiteralSql {
  if (!/^[a-z][a-z0-9_ ]*$/.test(type)) throw new Error(`Not an SQL type name: ${type}`);
  return { text: `ARRAY[${values.map(literal).join(',')}]::${type}[]` };
}

/** Connections on which each prepared statement has been PREPAREd (a connection that is closed drops out). */
const preparedOn = new WeakMap<pg.Client, Set<string>>();

/** SQLSTATE 26000: the named prepared statement does not exist (on this connection). */
const NO_SUCH_STATEMENT = '26000';

/**
 * Runs ONE prepared statement as a tenant in ONE round trip, with row-level security in force —
 * `readAsTenant` for a statement that writes, planned once per connection.
 *
 * The role and tenant switch, a generic plan for this transaction, and `EXECUTE name(args)` travel
 * as one simple-protocol query string: PostgreSQL runs them as one implicit transaction, so the
 * statement runs as APP_ROLE with `app.tenant_id` set, commits with the query, or fails as a whole
 * and changes nothing. The statement is PREPAREd on a pooled connection the first time that
 * connection runs it (one more round trip, once); its plan is generic (`plan_cache_mode`), so it is
 * made once and reused, whatever the arguments. The arguments are escaped literals (`sql`,
 * `sqlArray`), coerced to the statement's parameter types. A prepared statement lives in its
 * session: between the API and PostgreSQL there must be no pooler that hands one session's
 * queries to several (PgBouncer in transaction mode). `onConnection` runs once the call holds its
 * pooled connection, before anything is sent on it.
 */
export async function executeAsTenant<Row>(db: Db, tenantId: string, statement: PreparedStatement, args: readonly LiteralSql[], onConnection?: () => void): Promise<Row[]> {
  return executeStepsAsTenant<Row>(db, tenantId, [{ statement, args }], onConnection);
}

/** One prepared statement and its arguments, a step of {@link executeStepsAsTenant}. */
export interface PreparedStep {
  statement: PreparedStatement;
  args: readonly LiteralSql[];
}

/**
 * {@link executeAsTenant} for several prepared statements run one after the other in the same
 * query string, hence in one implicit transaction and one round trip; the last one's rows. Under
 * READ COMMITTED each statement takes its own snapshot: a statement sees what was committed
 * while an earlier one of the string waited for a lock (an advisory lock, say), as the next
 * statement of a transaction would.
 */
export async function executeStepsAsTenant<Row>(db: Db, tenantId: string, steps: readonly PreparedStep[], onConnection?: () => void): Promise<Row[]> {
  if (steps.length === 0) throw new Error('executeStepsAsTenant needs a statement');
  for (const { statement, args } of steps) {
    if (args.length !== statement.params.length) throw new Error(`${statement.name} takes ${statement.params.length} arguments, not ${args.length}`);
  }
  const settings = tenantSwitch(tenantId, 'executeAsTenant', ", set_config('plan_cache_mode', 'force_generic_plan', true)");
  const executes = steps.map(({ statement, args }) => `execute ${pg.escapeIdentifier(statement.name)}(${args.map((a) => a.text).join(', ')})`);
  const text = `${settings}; ${executes.join('; ')}`;
  let prepared: Set<string> | undefined;
  try {
    return await settingsThen<Row>(db, 'executeAsTenant', text, steps.length, async (connection) => {
      onConnection?.();
      prepared = preparedOn.get(connection);
      if (!prepared) {
        prepared = new Set();
        preparedOn.set(connection, prepared);
      }
      for (const { statement } of steps) {
        if (prepared.has(statement.name)) continue;
        await connection.query(`prepare ${pg.escapeIdentifier(statement.name)}(${statement.params.join(', ')}) as ${statement.text}`);
        prepared.add(statement.name);
      }
    });
  } catch (err) {
    // Someone deallocated one (DISCARD ALL): prepare them again on the next call.
    if ((err as { code?: unknown }).code === NO_SUCH_STATEMENT) for (const { statement } of steps) prepared?.delete(statement.name);
    throw err;
  }
}
