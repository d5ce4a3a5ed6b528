/**
 * Database backups with the PostgreSQL client tools: `pg_dump --format=custom` into BACKUP_DIR
 * (written under a temporary name, 0600 in a 0700 directory), keeping the newest BACKUP_KEEP dumps,
 * and `pg_restore` of one dump into an empty database.
 * See docs/operations.md › Scheduler, retention and backups.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { type Config, ownerDatabaseUrl } from './config.ts';
import { CREATE_APP_ROLE_SQL, databaseName, ensureDatabase } from './db.ts';

/** Dumps and restores run as the schema owner (DATABASE_OWNER_URL, else DATABASE_URL): the API's login sees no rows. */
export type BackupConfig = Pick<Config, 'DATABASE_URL' | 'DATABASE_OWNER_URL' | 'BACKUP_DIR' | 'BACKUP_KEEP'>;

/** Owner only: a dump is the whole database. */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

export interface BackupReport {
  file: string;
  bytes: number;
  durationMs: number;
  /** Older dumps removed to keep BACKUP_KEEP. */
  removed: string[];
}

/** A client tool failed; the message ends with the tail of its stderr. */
export class BackupError extends Error {
  override readonly name = 'BackupError';
}

/** Connection for the client tools: the URL without its password, and the password apart. */
function clientConnection(databaseUrl: string): { url: string; env: NodeJS.ProcessEnv } {
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  return { url: url.toString(), env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) } };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.once('error', (err) =>
      reject(new BackupError(`${command} could not run (${(err as { code?: string }).code ?? err.message}); install postgresql-client`)),
    );
    child.once('close', (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new BackupError(`${command} exited with ${code ?? signal}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}

/** File names of this database's dumps: `catalytic-<db>-<UTC timestamp>.dump`, oldest first. */
export async function listBackups(config: Pick<Config, 'DATABASE_URL' | 'BACKUP_DIR'>): Promise<string[]> {
  const prefix = `catalytic-${databaseName(config.DATABASE_URL)}-`;
  let names: string[];
  try {
    names = await readdir(config.BACKUP_DIR);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
  // The timestamp has a fixed width, so name order is time order.
  return names.filter((n) => n.startsWith(prefix) && n.endsWith('.dump')).sort();
}

function timestamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace('.', '');
}

/** Dumps the database into BACKUP_DIR, then removes all but the newest BACKUP_KEEP dumps. */
export async function takeBackup(config: BackupConfig): Promise<BackupReport> {
  const started = Date.now();
  const dir = resolve(config.BACKUP_DIR);
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  // mkdir's mode is cut by the umask and ignored for a directory that exists already.
  await chmod(dir, DIR_MODE);
  const file = join(dir, `catalytic-${databaseName(config.DATABASE_URL)}-${timestamp(new Date())}.dump`);
  const partial = `${file}.partial`;
  const { url, env } = clientConnection(ownerDatabaseUrl(config));
  try {
    // Created private first: pg_dump truncates and fills it, and the mode stays.
    await (await open(partial, 'wx', FILE_MODE)).close();
    await chmod(partial, FILE_MODE);
    await run('pg_dump', ['--format=custom', '--no-password', `--file=${partial}`, `--dbname=${url}`], env);
    await rename(partial, file);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  const { size } = await stat(file);
  const removed = await pruneBackups(config);
  // Dumps written before dumps were private become private too.
  for (const name of await listBackups(config)) await chmod(join(dir, name), FILE_MODE);
  return { file, bytes: size, durationMs: Date.now() - started, removed };
}

/** A `.partial` file this old is left from a dump that died, not one being written. */
const STALE_PARTIAL_MS = 6 * 3600 * 1000;

/**
 * Removes the oldest dumps beyond BACKUP_KEEP, and leftovers of dumps that died; returns the
 * paths removed.
 */
export async function pruneBackups(config: BackupConfig): Promise<string[]> {
  const dir = resolve(config.BACKUP_DIR);
  const names = await listBackups(config);
  const doomed = names.slice(0, Math.max(0, names.length - config.BACKUP_KEEP)).map((n) => join(dir, n));
  const prefix = `catalytic-${databaseName(config.DATABASE_URL)}-`;
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix) || !name.endsWith('.dump.partial')) continue;
    const { mtimeMs } = await stat(join(dir, name));
    if (Date.now() - mtimeMs > STALE_PARTIAL_MS) doomed.push(join(dir, name));
  }
  for (const path of doomed) await rm(path, { force: true });
  return doomed;
}

/**
 * Prepares a restore target: counts its relations in the public schema (an empty database has
 * none) and makes sure the application role the dump grants to exists. Roles are cluster-wide,
 * so a new cluster lacks it.
 */
async function prepareTarget(databaseUrl: string): Promise<{ relations: number }> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ count: string }>(
      `select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')`,
    );
    const relations = Number(rows[0]?.count ?? 0);
    if (relations === 0) {
      await client.query(CREATE_APP_ROLE_SQL);
    }
    return { relations };
  } finally {
    await client.end();
  }
}

export interface RestoreReport {
  file: string;
  database: string;
  durationMs: number;
}

/**
 * Restores a dump into the database of DATABASE_URL, which must be empty (it is created when
 * missing and `create` is set). All or nothing: one transaction, stopping at the first error.
 */
export async function restoreBackup(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_OWNER_URL'>, file: string, options: { create?: boolean } = {}): Promise<RestoreReport> {
  const started = Date.now();
  const path = resolve(file);
  try {
    await stat(path);
  } catch {
    throw new BackupError(`No backup file at ${path}`);
  }
  if (options.create) await ensureDatabase(ownerDatabaseUrl(config));
  const database = databaseName(config.DATABASE_URL);
  const { relations } = await prepareTarget(ownerDatabaseUrl(config));
  if (relations > 0) {
    throw new BackupError(`The database ${database} is not empty (${relations} relations); restore into an empty database`);
  }
  const { url, env } = clientConnection(ownerDatabaseUrl(config));
  await run(
    'pg_restore',
    ['--no-password', '--no-owner', '--exit-on-error', '--single-transaction', `--dbname=${url}`, path],
    env,
  );
  return { file: path, database, durationMs: Date.now() - started };
}
