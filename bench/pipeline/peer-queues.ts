/**
 * The PostgreSQL-backed queues a user would pick instead of Catalytic's batch path, measured as
 * issue-style peers (docs/performance.md › Batches): `jobs` no-op jobs added with the peer's own
 * batch API (batches of 100, from `producers` concurrent producers in this process) and processed
 * by a consumer in its own process (peer-consumer.ts), each peer in a fresh database of the same
 * PostgreSQL server; timed from the first add until the database says every job is done. A peer
 * that cannot start is reported skipped, with why.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { makeWorkerUtils } from 'graphile-worker';
import PgBoss from 'pg-boss';
import { withServerClient } from '../../shared/db.ts';
import { cpuMs, ownCpuMs } from '../support/process-stats.ts';
import { ROOT } from '../support/stack.ts';
import { terminate } from '../support/terminate.ts';

export type PeerName = 'graphile-worker' | 'pg-boss';

export type PeerResult =
  | { peer: PeerName; jobs: number; seconds: number; jobs_per_s: number; cpu_ms_per_job: { producer: number; consumer: number; postgres: number; total: number } }
  | { peer: PeerName; skipped: string };

const ADD_BATCH = 100;

/** How many of the peer's jobs are done: graphile-worker deletes finished jobs; pg-boss marks them. */
const REMAINING: Record<PeerName, string> = {
  'graphile-worker': 'select count(*)::int as n from graphile_worker._private_jobs',
  'pg-boss': `select count(*)::int as n from pgboss.job where name = 'noop' and state <> 'completed'`,
};

/** Adds `count` jobs in one call of the peer's batch API. */
type Adder = (count: number) => Promise<void>;

async function adder(peer: PeerName, connectionString: string): Promise<{ add: Adder; close: () => Promise<void> }> {
  if (peer === 'graphile-worker') {
    const utils = await makeWorkerUtils({ connectionString });
    return { add: async (n) => void (await utils.addJobs(Array.from({ length: n }, () => ({ identifier: 'noop', payload: {} })))), close: async () => void (await utils.release()) };
  }
  const boss = new PgBoss({ connectionString, max: 4, supervise: false, schedule: false });
  boss.on('error', () => undefined);
  await boss.start();
  return { add: (n) => boss.insert(Array.from({ length: n }, () => ({ name: 'noop', data: {} }))), close: () => boss.stop({ graceful: false, wait: true }) };
}

function startConsumer(peer: PeerName, url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/pipeline/peer-consumer.ts', peer, url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${peer} consumer not ready: ${output.slice(-500)}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('ready\n')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-5000)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${peer} consumer exited (${code}): ${output.slice(-500)}`));
    });
  });
}

/** Measures one peer in a fresh database; a peer that cannot start is `skipped`. */
export async function measurePeer(peer: PeerName, serverUrl: string, jobs: number, producers = 4): Promise<PeerResult> {
  const database = `bench_peer_${peer.replace('-', '_')}_${randomBytes(3).toString('hex')}`;
  const url = `${serverUrl.replace(/\/$/, '')}/${database}`;
  await withServerClient(serverUrl, (c) => c.query(`create database ${pg.escapeIdentifier(database)}`));
  const watcher = new pg.Client({ connectionString: url, application_name: 'peer-bench' });
  let consumer: ChildProcess | undefined;
  let producer: { add: Adder; close: () => Promise<void> } | undefined;
  try {
    await watcher.connect();
    consumer = await startConsumer(peer, url);
    producer = await adder(peer, url);
    // Backends' CPU, sampled while they live (the last sample of each counts).
    const backends = new Map<number, number>();
    const sampleBackends = async () => {
      const { rows } = await watcher.query<{ pid: number }>(`select pid from pg_stat_activity where datname = $1 and application_name <> 'peer-bench'`, [database]);
      for (const { pid } of rows) {
        const ms = cpuMs(pid);
        if (ms !== undefined) backends.set(pid, Math.max(backends.get(pid) ?? 0, ms));
      }
    };
    await sampleBackends();
    const baseline = new Map(backends);
    const consumerBefore = cpuMs(consumer.pid as number) ?? 0;
    const ownBefore = ownCpuMs();
    const started = performance.now();
    let next = 0;
    const adding = Promise.all(
      Array.from({ length: producers }, async () => {
        while (next < jobs) {
          const n = Math.min(ADD_BATCH, jobs - next);
          next += n;
          await (producer as { add: Adder }).add(n);
        }
      }),
    );
    let lastSample = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 20));
      if (performance.now() - lastSample > 250) {
        lastSample = performance.now();
        await sampleBackends();
      }
      if (next < jobs) continue;
      const { rows } = await watcher.query<{ n: number }>(REMAINING[peer]);
      if ((rows[0]?.n ?? 1) === 0) break;
      if (performance.now() - started > 5 * 60_000) throw new Error(`${peer}: ${rows[0]?.n} jobs left after 5 minutes`);
    }
    await adding;
    const seconds = (performance.now() - started) / 1000;
    await sampleBackends();
    const consumerMs = (cpuMs(consumer.pid as number) ?? 0) - consumerBefore;
    const producerMs = ownCpuMs() - ownBefore;
    let postgresMs = 0;
    for (const [pid, ms] of backends) postgresMs += ms - (baseline.get(pid) ?? 0);
    const per = (ms: number) => Math.round((ms / jobs) * 1000) / 1000;
    const cpu = { producer: per(producerMs), consumer: per(consumerMs), postgres: per(postgresMs) };
    return {
      peer,
      jobs,
      seconds: Math.round(seconds * 1000) / 1000,
      jobs_per_s: Math.round(jobs / seconds),
      cpu_ms_per_job: { ...cpu, total: Math.round((cpu.producer + cpu.consumer + cpu.postgres) * 1000) / 1000 },
    };
  } catch (err) {
    return { peer, skipped: err instanceof Error ? err.message : String(err) };
  } finally {
    await producer?.close().catch(() => undefined);
    if (consumer) await terminate(consumer, 5000);
    await watcher.end().catch(() => undefined);
    await withServerClient(serverUrl, (c) => c.query(`drop database if exists ${pg.escapeIdentifier(database)} with (force)`)).catch(() => undefined);
  }
}
