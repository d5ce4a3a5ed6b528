/**
 * A private `redis-server` on a free loopback port, without persistence (`--save ""`, no AOF):
 * restarting it loses every key, as a Redis that crashed without a snapshot would. For suites that
 * restart Redis, which must never touch the machine's shared one.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onExit } from './exit-cleanup.ts';
import { freePort, waitUntil } from './ports.ts';

const exec = promisify(execFile);

export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** Kills the server (SIGKILL: its data is gone). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** Kills and starts again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisServer(options: { port?: number } = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'catalytic-redis-'));
  let child: ChildProcess | undefined;

  const ping = async () => (await exec('redis-cli', ['-p', String(port), 'ping'], { timeout: 2000 })).stdout.trim() === 'PONG';
  const start = async () => {
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'noeviction'],
      { stdio: 'ignore' },
    );
    child = started;
    await waitUntil(ping, 10_000, `redis-server on port ${port}`);
  };
  const kill = async () => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    current.kill('SIGKILL');
    await exited;
  };
  const unregister = onExit(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    start,
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
      unregister();
    },
  };
}
