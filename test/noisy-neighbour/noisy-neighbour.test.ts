/**
 * Noisy neighbours, with real processes (one API, one worker, one scheduler) on the plans' own
 * rate limits: a free-plan tenant runs every abuse at once — webhook endpoints on a tarpit (a
 * server that accepts and never answers) hit by `POST /api/webhooks/:id/test` in loops and by
 * its jobs' events, a stored lattice with a giant obstacle list referenced by many tiny job
 * submissions, list pages of the largest size, diffusion jobs with the most steps and sources the
 * plan allows, and unauthenticated ~1 MB JSON bodies — while an enterprise tenant runs a steady
 * mix of submits and polls. The victim's p99 request latency and p99 job queue wait are measured
 * without the abuser and then with it, in the same run. The abuser's client runs in a process of
 * its own (abuser.ts), so its megabytes of JSON load the machine but not the measuring client.
 * The figures also give the CPU each process used per second of each phase (the abuser's client,
 * from its start, included) and the load average, so that a run tells what the abuse costs this
 * system's processes from what the machine's other load costs everyone.
 *
 * It holds that: the victim's p99 latency and p99 queue wait with the abuser stay within 2x of
 * those without it, where a baseline below a floor (20 ms of latency, 50 ms of queue wait) counts
 * as the floor, so that a 2 ms baseline does not fail a 5 ms figure; the victim gets no 5xx and
 * no 429; no process's resident memory (read from /proc) exceeds its budget — the worker's is
 * WORKER_MEMORY_BUDGET_BYTES plus WORKER_MEMORY_HEADROOM_BYTES, the API's and the scheduler's
 * 512 MiB (their Kubernetes limits); and nothing accepted is lost: every job of both tenants
 * that was answered 202 reaches a final state, and every completed one has its result. The
 * abuser's own 429s (and other refusals) are expected. Figures are printed as JSON.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, type Db } from '../../shared/db.ts';
import { type Cluster, startCluster } from '../harness/cluster.ts';
import { SERVER_URL } from '../support/postgres.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { type AbuserReport, type AbuserTarget } from './abuser.ts';
import { timedRequest } from './timed-request.ts';

const MIB = 1024 * 1024;
const BASELINE_MS = 15_000;
const ABUSE_MS = 20_000;
const LATENCY_FLOOR_MS = 20;
/** Submit-then-poll loops of the victim. */
const VICTIM_LOOPS = 5;
/** Jobs a phase must have at least, for its p99 to be a 99th percentile rather than the maximum. */
const MIN_JOBS_PER_PHASE = 100;
const QUEUE_WAIT_FLOOR_MS = 50;
const WORKER_BUDGET = 1024 * MIB;
const WORKER_HEADROOM = 512 * MIB;
/** Resident memory each process may reach. */
const RSS_BUDGET = { api: 512 * MIB, worker: WORKER_BUDGET + WORKER_HEADROOM, scheduler: 512 * MIB } as const;

type Phase = 'baseline' | 'abuse';

interface Sample {
  phase: Phase;
  ms: number;
  status: number;
  /** When it was sent, in ms since the load began, and what it asked: for the slowest list. */
  at: number;
  what: string;
}

interface VictimJob {
  id: string;
  phase: Phase;
}

let cluster: Cluster;
let db: Db;
let tarpit: Server;
const tarpitSockets = new Set<Socket>();
let victim: TestTenant;
let abuser: TestTenant;
let failed = false;

const api = (): string => cluster.apis[0]!.url;

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident set size of a process, from /proc. */
function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

/** CPU time a process has used (user and system), in ms, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The victim's small jobs, in turn. */
function victimJob(i: number): unknown {
  const seed = i % 50;
  switch (i % 3) {
    case 0:
      return { type: 'shortest_path', lattice: { shape: [30, 40], obstacles: { density: 0.25, seed } }, params: { start: [0, 0], end: [29, 39] } };
    case 1:
      return { type: 'components', lattice: { shape: [24, 24], obstacles: { density: 0.4, seed } } };
    default:
      return { type: 'diffusion', lattice: { dimensions: 3, size: 8, boundary: 'periodic' }, params: { steps: 20, alpha: 0.1, sources: [{ cell: [1, 2, 3], value: 2 }] } };
  }
}

beforeAll(async () => {
  tarpit = createServer((socket) => {
    // Accepts, reads, never answers.
    tarpitSockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => tarpitSockets.delete(socket));
  });
  await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
  cluster = await startCluster({
    postgresServerUrl: SERVER_URL,
    templateDatabase: inject('templateDatabase'),
    apis: 1,
    workers: 1,
    schedulers: 1,
    entry: inject('catalyticBundle'),
    // Two cores shared with whatever else runs: starting three processes can take a while.
    readyTimeoutMs: 150_000,
    env: {
      // The production defaults where the harness shortens them for fault suites: attempts at a
      // tarpit time out after 10 s, retries follow the production schedule, polled every 5 s.
      WEBHOOK_TIMEOUT_MS: '10000',
      WEBHOOK_RETRY_SCHEDULE_MS: '5000,30000,120000,600000,3600000,21600000,86400000',
      WEBHOOK_RETRY_POLL_MS: '5000',
      RECONCILE_EVERY_MS: '60000',
      RATE_LIMIT_CREDENTIAL_PER_SECOND: '100',
      DATABASE_POOL_MAX: '10',
      KERNEL_THREADS: '2',
      WORKER_CONCURRENCY: '4',
      WORKER_MEMORY_BUDGET_BYTES: String(WORKER_BUDGET),
      WORKER_MEMORY_HEADROOM_BYTES: String(WORKER_HEADROOM),
      MAX_JOB_MEMORY_BYTES: String(WORKER_BUDGET),
    },
  });
  db = createDb({ url: cluster.databaseUrl, poolMax: 2 });
  [victim, abuser] = await Promise.all([createTestTenant(db, { plan: 'enterprise', name: 'victim' }), createTestTenant(db, { plan: 'free', name: 'abuser' })]);
}, 240_000);

afterAll(async () => {
  await db?.destroy();
  await cluster?.stop({ keepLogs: failed });
  if (failed && cluster) console.log(`process logs kept in ${cluster.logDir}`);
  for (const socket of tarpitSockets) socket.destroy();
  await new Promise<void>((resolve) => (tarpit ? tarpit.close(() => resolve()) : resolve()));
}, 60_000);

/** The abuser in its own process (abuser-process.ts); `stop()` ends it and reads its report. */
function startAbuser(): { pid: number; stop(): Promise<AbuserReport> } {
  const target: AbuserTarget = { apiUrl: api(), headers: abuser.headers, tarpitPort: (tarpit.address() as AddressInfo).port };
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./abuser-process.ts', import.meta.url)), JSON.stringify(target)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    pid: child.pid as number,
    async stop() {
      child.stdin.end('stop\n');
      const code = await exited;
      if (code !== 0) throw new Error(`the abuser process exited with ${code}`);
      return JSON.parse(out) as AbuserReport;
    },
  };
}

/**
 * The victim's steady mix: five loops of submit-then-poll, and a list read every second — over a
 * hundred jobs a phase, so that a p99 of queue waits is a 99th percentile and not the maximum.
 * (Its plan, enterprise, lets it make 100 requests a second: its own rate limit never refuses it.)
 */
function runVictim(phaseOf: () => Phase, stop: () => boolean) {
  const samples: Sample[] = [];
  const jobs: VictimJob[] = [];
  const began = performance.now();
  let n = 0;
  const request = async (path: string, body?: unknown) => {
    const phase = phaseOf();
    const sent = performance.now();
    const r = await timedRequest(api(), path, { body: body === undefined ? undefined : JSON.stringify(body), headers: victim.headers });
    samples.push({ phase, ms: r.ms, status: r.status, at: Math.round(sent - began), what: `${body === undefined ? 'GET' : 'POST'} ${path.replace(/[0-9a-f-]{36}/, ':id')}` });
    return r;
  };
  const loop = async () => {
    while (!stop()) {
      const phase = phaseOf();
      const submitted = await request('/api/jobs', victimJob(n++));
      if (submitted.status === 202) {
        const { id } = JSON.parse(submitted.text) as { id: string };
        jobs.push({ id, phase });
        for (let polls = 0; polls < 100 && !stop(); polls++) {
          await sleep(150);
          const read = await request(`/api/jobs/${id}`);
          if (read.status === 200 && /"status":"(completed|failed|cancelled)"/.test(read.text)) break;
        }
      }
      await sleep(250);
    }
  };
  const lists = async () => {
    while (!stop()) {
      await request('/api/jobs?limit=20');
      await sleep(1000);
    }
  };
  return { samples, jobs, done: Promise.all([...Array.from({ length: VICTIM_LOOPS }, loop), lists()]) };
}

describe('a noisy neighbour', () => {
  it('does not slow another tenant down by more than 2x, push a process past its memory, or lose a job', { timeout: 180_000 }, async () => {
    const pids = cluster.processes.map((p) => ({ role: p.role, name: p.name, pid: p.pid as number }));
    const peakRss = new Map(pids.map((p) => [p.name, 0]));
    const sampler = setInterval(() => {
      for (const p of pids) {
        try {
          peakRss.set(p.name, Math.max(peakRss.get(p.name) ?? 0, rssBytes(p.pid)));
        } catch {
          // The process is gone: the liveness check below reports it.
        }
      }
    }, 200);

    let phase: Phase = 'baseline';
    let victimStop = false;
    const started = Date.now();
    const load = runVictim(
      () => phase,
      () => victimStop,
    );
    // CPU each process uses per second of each phase: where the machine's time goes.
    const cpuOf = () => new Map(pids.map((p) => [p.name, cpuMs(p.pid)]));
    const cpuAtStart = cpuOf();
    await sleep(BASELINE_MS);
    const cpuAtAbuse = cpuOf();
    phase = 'abuse';
    const abuse = startAbuser();
    const abuserCpuAtStart = cpuMs(abuse.pid);
    await sleep(ABUSE_MS);
    const cpuAtEnd = cpuOf();
    const abuserCpu = cpuMs(abuse.pid) - abuserCpuAtStart;
    victimStop = true;
    await load.done;
    const abused = await abuse.stop();
    const loadMs = Date.now() - started;

    // The abuser's jobs end too: it cancels what still runs (its plan lets a diffusion run for a
    // minute), retrying while its own rate limit refuses; what it cannot cancel hits the plan's
    // runtime limit. Either is a final state.
    const everyJob = [...load.jobs.map((j) => j.id), ...abused.jobs];
    const deadline = Date.now() + 75_000;
    let unfinished: Array<{ id: string; status: string }> = [];
    for (;;) {
      unfinished = (await db('jobs').whereIn('id', everyJob).whereNotIn('status', ['completed', 'failed', 'cancelled']).select('id', 'status')) as typeof unfinished;
      if (unfinished.length === 0 || Date.now() > deadline) break;
      for (const { id } of unfinished.filter((j) => abused.jobs.includes(j.id))) {
        const r = await timedRequest(api(), `/api/jobs/${id}`, { method: 'DELETE', headers: abuser.headers, timeoutMs: 5000 });
        if (r.status === 429) break;
      }
      await sleep(1000);
    }
    clearInterval(sampler);
    const rows = (await db('jobs as j')
      .leftJoin('job_results as r', 'r.job_id', 'j.id')
      .whereIn('j.id', everyJob)
      .select('j.id', 'j.tenant_id', 'j.status', 'j.queue_wait_ms', db.raw('r.job_id is not null as has_result'))) as Array<{
      id: string;
      tenant_id: string;
      status: string;
      queue_wait_ms: number | null;
      has_result: boolean;
    }>;
    const byId = new Map(rows.map((r) => [r.id, r]));

    const latencies = (p: Phase) => load.samples.filter((s) => s.phase === p).map((s) => s.ms);
    const waits = (p: Phase) =>
      load.jobs
        .filter((j) => j.phase === p)
        .map((j) => byId.get(j.id)?.queue_wait_ms)
        .filter((w): w is number => typeof w === 'number');
    const figures = {
      load_ms: loadMs,
      victim: {
        requests: { baseline: latencies('baseline').length, abuse: latencies('abuse').length },
        p99_latency_ms: { baseline: percentile(latencies('baseline'), 99), abuse: percentile(latencies('abuse'), 99) },
        p50_latency_ms: { baseline: percentile(latencies('baseline'), 50), abuse: percentile(latencies('abuse'), 50) },
        jobs: { baseline: waits('baseline').length, abuse: waits('abuse').length },
        p99_queue_wait_ms: { baseline: percentile(waits('baseline'), 99), abuse: percentile(waits('abuse'), 99) },
        slowest: [...load.samples].sort((a, b) => b.ms - a.ms).slice(0, 6).map((x) => `${x.phase} +${x.at} ms ${x.what}: ${Math.round(x.ms)} ms`),
        statuses: Object.fromEntries([...new Set(load.samples.map((s) => s.status))].map((s) => [s, load.samples.filter((x) => x.status === s).length])),
      },
      abuser: { endpoints: abused.endpoints, accepted_jobs: abused.jobs.length, statuses: abused.statuses },
      cpu_ms_per_s: {
        baseline: Object.fromEntries(pids.map((p) => [p.name, Math.round(((cpuAtAbuse.get(p.name) ?? 0) - (cpuAtStart.get(p.name) ?? 0)) / (BASELINE_MS / 1000))])),
        abuse: {
          ...Object.fromEntries(pids.map((p) => [p.name, Math.round(((cpuAtEnd.get(p.name) ?? 0) - (cpuAtAbuse.get(p.name) ?? 0)) / (ABUSE_MS / 1000))])),
          abuser_client: Math.round(abuserCpu / (ABUSE_MS / 1000)),
        },
      },
      load_average: loadavg().map((x) => Math.round(x * 100) / 100),
      peak_rss_mib: Object.fromEntries(pids.map((p) => [p.name, Math.round((peakRss.get(p.name) ?? 0) / MIB)])),
      rss_budget_mib: Object.fromEntries(pids.map((p) => [p.name, RSS_BUDGET[p.role] / MIB])),
      unfinished_jobs: unfinished.length,
      completed_without_result: rows.filter((r) => r.status === 'completed' && !r.has_result).length,
      missing_rows: everyJob.filter((id) => !byId.has(id)).length,
      bounds: { latency_floor_ms: LATENCY_FLOOR_MS, queue_wait_floor_ms: QUEUE_WAIT_FLOOR_MS, factor: 2 },
    };
    console.log(JSON.stringify({ noisy_neighbour: figures }, null, 2));
    failed = true;

    // Nothing accepted is lost.
    expect(figures.missing_rows).toBe(0);
    expect(unfinished).toEqual([]);
    expect(figures.completed_without_result).toBe(0);
    // The victim is served: no errors, and no refusals of its own plan.
    const victimErrors = load.samples.filter((s) => s.status === 0 || s.status >= 500 || s.status === 429);
    expect(victimErrors.length, `victim requests failed: ${JSON.stringify(figures.victim.statuses)}`).toBe(0);
    expect(figures.victim.jobs.baseline).toBeGreaterThanOrEqual(MIN_JOBS_PER_PHASE);
    expect(figures.victim.jobs.abuse).toBeGreaterThanOrEqual(MIN_JOBS_PER_PHASE);
    // No process past its memory budget.
    for (const p of pids) expect(peakRss.get(p.name), `${p.name} resident memory`).toBeLessThanOrEqual(RSS_BUDGET[p.role]);
    for (const p of cluster.processes) expect(p.running, `${p.name} still runs`).toBe(true);
    // Within 2x of the same run's baseline (a baseline under the floor counts as the floor).
    const { p99_latency_ms: latency, p99_queue_wait_ms: wait } = figures.victim;
    expect(latency.abuse, 'victim p99 request latency with the abuser').toBeLessThanOrEqual(2 * Math.max(latency.baseline, LATENCY_FLOOR_MS));
    expect(wait.abuse, 'victim p99 queue wait with the abuser').toBeLessThanOrEqual(2 * Math.max(wait.baseline, QUEUE_WAIT_FLOOR_MS));
    failed = false;
  });
});
