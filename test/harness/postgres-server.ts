/**
 * A private PostgreSQL server on a free loopback port, in a temporary data directory: for suites
 * that stop and start PostgreSQL, which must never touch the machine's shared server (other test
 * files run against it in parallel). PostgreSQL refuses to run as root, so as root the server
 * runs as the `postgres` user (`runuser`). Trust authentication, no fsync: it is throwaway.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onExit } from './exit-cleanup.ts';
import { freePort } from './ports.ts';

const exec = promisify(execFile);

export interface PostgresServerOptions {
  /** @defaultValue a free port */
  port?: number;
  /** @defaultValue 300 (many processes, each with a pool or two) */
  maxConnections?: number;
}

export interface PostgresServer {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>` — append `/<database>`. */
  serverUrl: string;
  dataDir: string;
  /** Stops the server (`pg_ctl stop -m fast`); `start()` brings it back with its data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its data directory. */
  destroy(): Promise<void>;
}

/** The directory of initdb/pg_ctl: the newest /usr/lib/postgresql/<version>/bin, else PATH. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  return '';
}

const isRoot = process.getuid?.() === 0;

/** Runs a server binary as `postgres` when we are root (PostgreSQL refuses root). */
function command(bin: string, args: string[]): [string, string[]] {
  const path = binDir() ? join(binDir(), bin) : bin;
  return isRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
}

async function run(bin: string, args: string[]): Promise<string> {
  const [file, argv] = command(bin, args);
  try {
    const { stdout } = await exec(file, argv, { timeout: 60_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${bin} ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

export async function startPostgresServer(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const port = options.port ?? (await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), 'catalytic-pg-'));
  if (isRoot) {
    const { uid, gid } = postgresIds();
    chownSync(dataDir, uid, gid);
  }
  const settings = [
    `port=${port}`,
    'listen_addresses=127.0.0.1',
    `unix_socket_directories=${dataDir}`,
    `max_connections=${options.maxConnections ?? 300}`,
    'fsync=off',
    'synchronous_commit=off',
    'full_page_writes=off',
  ];
  const ctlArgs = (action: string[]) => ['-D', dataDir, '-l', join(dataDir, 'server.log'), ...action];
  let running = false;
  const start = async () => {
    await run('pg_ctl', ctlArgs(['-w', '-t', '60', '-o', settings.map((s) => `-c ${s}`).join(' '), 'start']));
    running = true;
  };
  const stop = async () => {
    if (!running) return;
    await run('pg_ctl', ctlArgs(['-w', '-t', '60', '-m', 'fast', 'stop']));
    running = false;
  };
  const unregister = onExit(() => {
    if (running) {
      const [file, argv] = command('pg_ctl', ['-D', dataDir, '-m', 'immediate', 'stop']);
      execFileSync(file, argv, { stdio: 'ignore' });
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  try {
    await run('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    await start();
  } catch (err) {
    await stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    unregister();
    throw err;
  }
  return {
    port,
    serverUrl: `postgres://postgres@127.0.0.1:${port}`,
    dataDir,
    stop,
    start,
    async destroy() {
      try {
        await stop();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
        unregister();
      }
    },
  };
}
