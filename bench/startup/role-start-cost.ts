/**
 * `node --import tsx bench/startup/role-start-cost.ts [rounds]`: what starting a server role costs
 * the machine, through tsx (`bin/catalytic.js`, as users run it) and from the compiled bundle the
 * tests spawn (test/support/catalytic-bundle.ts). For each role it starts the process, waits for
 * its "is running" line and reads the process's CPU time (all its threads, the kernel thread
 * included) and the wall time; then stops it with SIGTERM. Entries alternate within each round,
 * so both see the same load. Prints medians per role and entry, and the load average.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { buildCatalyticBundle } from '../../test/support/catalytic-bundle.ts';
import { createDatabase, databaseUrl, dropDatabase, freshDatabaseName } from '../../test/support/postgres.ts';
import { createDb } from '../../shared/db.ts';
import { migrateLatest } from '../../shared/migrate.ts';
import { createRedis, deleteKeysWithPrefix } from '../../shared/redis.ts';
import { cpuMs } from '../support/process-stats.ts';
import { ROOT } from '../support/stack.ts';
import { terminate } from '../support/terminate.ts';

const ROLES = ['api', 'worker', 'scheduler', 'all'] as const;
const rounds = Number(process.argv[2] ?? 3);

interface Sample {
  cpuMs: number;
  wallMs: number;
}

/** Starts `node <entry> <role>`, waits for its banner, returns its CPU and wall time so far. */
async function startOnce(entry: string, role: string, env: Record<string, string>): Promise<Sample> {
  const started = performance.now();
  const child = spawn(process.execPath, [entry, role], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new RegExp(`catalytic ${role} is running`);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${role} did not start in 120 s:\n${output}`)), 120_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (ready.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`${role} exited with ${code}:\n${output}`)));
    });
    const wallMs = performance.now() - started;
    const cpu = cpuMs(child.pid!);
    if (cpu === undefined) throw new Error('no /proc CPU figure');
    return { cpuMs: cpu, wallMs };
  } finally {
    await terminate(child, 10_000);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

const bundle = await buildCatalyticBundle();
const database = freshDatabaseName('startbench');
await createDatabase(database);
const db = createDb({ url: databaseUrl(database) });
await migrateLatest(db);
await db.destroy();
const env: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/tmp',
  NODE_ENV: 'test',
  LOG_LEVEL: 'info',
  LOG_PRETTY: 'false',
  DATABASE_URL: databaseUrl(database),
  DATABASE_CREATE: 'false',
  DATABASE_POOL_MAX: '4',
  REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: `cat_b_${randomBytes(4).toString('hex')}`,
  HOST: '127.0.0.1',
  PORT: '0',
  METRICS_PORT: '0',
  KERNEL_THREADS: '1',
  WORKER_CONCURRENCY: '2',
};
const entries = { tsx: join(ROOT, 'bin/catalytic.js'), bundle: bundle.file };
const samples = new Map<string, Sample[]>();
console.log(`load before: ${load()}`);
try {
  for (let round = 0; round < rounds; round++) {
    for (const role of ROLES) {
      // Alternate which entry goes first, so neither always follows the other's exit.
      const order = round % 2 === 0 ? (['tsx', 'bundle'] as const) : (['bundle', 'tsx'] as const);
      for (const name of order) {
        const sample = await startOnce(entries[name], role, env);
        const key = `${role} ${name}`;
        samples.set(key, [...(samples.get(key) ?? []), sample]);
        console.log(`round ${round + 1} ${key}: ${sample.cpuMs.toFixed(0)} ms CPU, ${sample.wallMs.toFixed(0)} ms wall (load ${load()})`);
      }
    }
  }
} finally {
  await bundle.remove();
  await dropDatabase(database);
  const redis = createRedis(env.REDIS_URL!);
  await deleteKeysWithPrefix(redis, env.REDIS_PREFIX!);
  redis.disconnect();
}
console.log(`\nmedians over ${rounds} rounds (load after: ${load()})`);
console.log('| role | CPU ms tsx | CPU ms bundle | wall ms tsx | wall ms bundle |');
console.log('| --- | --- | --- | --- | --- |');
for (const role of ROLES) {
  const t = samples.get(`${role} tsx`) ?? [];
  const b = samples.get(`${role} bundle`) ?? [];
  const m = (xs: Sample[], k: keyof Sample) => median(xs.map((s) => s[k])).toFixed(0);
  console.log(`| ${role} | ${m(t, 'cpuMs')} | ${m(b, 'cpuMs')} | ${m(t, 'wallMs')} | ${m(b, 'wallMs')} |`);
}
