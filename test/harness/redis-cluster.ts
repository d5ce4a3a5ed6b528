/**
 * A throwaway Redis Cluster on loopback: three primaries (and optionally one replica each),
 * created with `redis-cli --cluster create`, each node in its own temporary directory.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface RedisClusterOptions {
  /** First port; nodes use consecutive ports. @defaultValue random in 20000–29000 */
  basePort?: number;
  /** @defaultValue 3 */
  primaries?: number;
  /** Replicas per primary. @defaultValue 0 */
  replicas?: number;
}

export interface RedisCluster {
  /** `host:port` of every node, primaries first. */
  nodes: string[];
  /** Comma-separated seeds for REDIS_CLUSTER_NODES. */
  seeds: string;
  ports: number[];
  /** Kills one node (for failover tests). */
  kill(port: number): void;
  stop(): Promise<void>;
}

async function redisCli(args: string[]): Promise<string> {
  const { stdout } = await exec('redis-cli', args, { timeout: 30_000 });
  return stdout;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** True when nothing listens on `port` of 127.0.0.1 right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A random first port whose `count` consecutive ports, and their cluster bus ports (+10000), are free. */
async function freeBasePort(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 9000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(ports.flatMap((p) => [portIsFree(p), portIsFree(p + 10_000)]));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free range of ports for a Redis Cluster');
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const primaries = options.primaries ?? 3;
  const replicas = options.replicas ?? 0;
  const count = primaries * (1 + replicas);
  const base = options.basePort ?? (await freeBasePort(count));
  const ports = Array.from({ length: count }, (_, i) => base + i);
  const dir = mkdtempSync(join(tmpdir(), 'catalytic-cluster-'));
  const processes = new Map<number, ChildProcess>();

  for (const port of ports) {
    const child = spawn(
      'redis-server',
      [
        '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000',
        '--dir', dir, '--dbfilename', `dump-${port}.rdb`, '--save', '', '--appendonly', 'no',
        '--maxmemory-policy', 'noeviction',
      ],
      { stdio: 'ignore' },
    );
    processes.set(port, child);
  }
  const stop = async () => {
    for (const child of processes.values()) child.kill('SIGKILL');
    await Promise.all([...processes.values()].map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      // Generous: redis-cli start-up alone can take seconds on a busy machine.
      await waitFor(async () => (await redisCli(['-p', String(port), 'ping'])).trim() === 'PONG', 30_000, `redis node ${port}`);
    }
    const nodes = ports.map((p) => `127.0.0.1:${p}`);
    await redisCli(['--cluster', 'create', ...nodes, '--cluster-replicas', String(replicas), '--cluster-yes']);
    await waitFor(
      async () => {
        const infos = await Promise.all(ports.map((p) => redisCli(['-p', String(p), 'cluster', 'info'])));
        return infos.every((info) => info.includes('cluster_state:ok'));
      },
      30_000,
      'cluster_state:ok on every node',
    );
    return {
      nodes,
      seeds: nodes.join(','),
      ports,
      kill: (port) => processes.get(port)?.kill('SIGKILL'),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
