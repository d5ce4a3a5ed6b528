/**
 * One load scenario: autocannon against a URL with a profile's requests for a fixed time.
 * Latency percentiles come from every response's own time (autocannon's summary has no p95),
 * and statuses are counted one by one so 429s (rate limiting) and 5xx are reported apart.
 *
 * Several target processes (`--api-processes`) each get their own autocannon instance on their
 * own port, all running at once in this process, with the connections divided between them (the
 * first ones take the remainder); their responses are pooled into one result and their CPU added.
 */
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import { type Profile, type ProfileData, requestsFor, routesOf } from './profiles.ts';
import { type BenchStack, postgresCpuByClient, sharedCpuSpent } from '../support/stack.ts';
import { cpuMs, heapUsedBytes, rssBytes, type StackProcess } from './stack.ts';

export interface ScenarioOptions {
  /** One process, or several serving the same API on their own ports. */
  targets: readonly StackProcess[];
  profile: Profile;
  connections: number;
  durationS: number;
  data: ProfileData;
  /** Seconds of the same load before measuring, not reported. @defaultValue 2 */
  warmupS?: number;
  /** The stack, to read where the rest of the machine's CPU went (PostgreSQL, Redis, workers). */
  stack?: BenchStack;
  /** What waiting for the stack's job backlog found (see `settleBacklog`). */
  settled?: { backlog_jobs: number; waited_ms: number };
}

export interface ScenarioResult {
  profile: Profile;
  target: string;
  /** How many processes served the scenario (connections divided between them). */
  target_processes: number;
  connections: number;
  duration_s: number;
  requests: number;
  requests_per_s: number;
  latency_ms: { mean: number; p50: number; p95: number; p99: number; max: number };
  /**
   * The same percentiles per kind of request (poll, submit, list) when the profile mixes them,
   * with each kind's count: which requests the tail is made of.
   */
  latency_by_route_ms: Record<string, { requests: number; p50: number; p95: number; p99: number; max: number }> | null;
  statuses: Record<string, number>;
  /** Share of answers that were not 2xx (429s and 5xx included). */
  error_rate: number;
  non_2xx: number;
  rate_limited_429: number;
  server_errors_5xx: number;
  /** 5xx answers during the unmeasured warm-up (they count against the zero-5xx target too). */
  warmup_server_errors_5xx: number;
  /** Connection errors and timeouts (no answer at all). */
  connection_errors: number;
  timeouts: number;
  /** RSS added over the target processes; heap in use of the first. */
  target_memory_after: { rss_mb?: number; heap_used_mb?: number };
  /**
   * CPU the target processes used (added up): per answered request, and in cores (CPU seconds per second).
   * On a shared machine this separates "slow" from "starved": cost per request is what the
   * process would need on a core of its own.
   */
  target_cpu: { ms_per_request: number; cores: number } | null;
  /**
   * CPU per answered request of the rest of the machine: PostgreSQL backends of the stack's
   * database, Redis, and this process (autocannon, the load generator). With the target's, it
   * tells where two cores went.
   */
  other_cpu_ms_per_request: {
    postgres: number;
    /** PostgreSQL's share split by the client whose session spent it (`catalytic:api`, `catalytic:worker`, …). */
    postgres_by_client: Record<string, number>;
    redis: number;
    load_generator: number;
    workers: number;
  } | null;
  /**
   * Jobs still queued or running when the scenario was due, and how long the benchmark waited for
   * the worker to finish them: a backlog left by an earlier scenario's submissions would otherwise
   * spend the cores this one is measured on.
   */
  settled: { backlog_jobs: number; waited_ms: number } | null;
  /**
   * Jobs this scenario's submissions left queued or running when it ended, and how long the worker
   * took to finish them: the work a lower-priority worker put off rather than did.
   */
  left_behind: { backlog_jobs: number; waited_ms: number } | null;
  load_average: { before: number[]; after: number[] };
}

const MB = 1024 * 1024;
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The value at quantile q of sorted values (nearest rank). */
export function quantile(sorted: Float64Array, q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

interface Driven {
  /** Response times of the requests sent after the warm-up. */
  times: number[];
  /** The same per kind of request (`routesOf`). */
  byRoute: Record<string, number[]>;
  statuses: Record<string, number>;
  /** Statuses of the answers to requests sent during the warm-up. */
  warmStatuses: Record<string, number>;
  /** Seconds from the warm-up's end to the run's. */
  measuredS: number;
  errors: number;
  timeouts: number;
}


/**
 * Waits until the stack has no job queued or running (at most `limitMs`), so a scenario does not
 * share the cores with the worker finishing an earlier scenario's submissions. Returns the backlog
 * found and the time waited.
 */
export async function settleBacklog(stack: BenchStack, limitMs = 120_000): Promise<{ backlog_jobs: number; waited_ms: number }> {
  const started = Date.now();
  const unfinished = async () => {
    const rows = (await stack.db.raw(`select count(*)::int as n from jobs where status in ('queued', 'running')`)) as { rows: Array<{ n: number }> };
    return rows.rows[0]?.n ?? 0;
  };
  const backlog = await unfinished();
  let left = backlog;
  while (left > 0 && Date.now() - started < limitMs) {
    await new Promise((r) => setTimeout(r, 250));
    left = await unfinished();
  }
  return { backlog_jobs: backlog, waited_ms: Date.now() - started };
}

/** The part of autocannon's client the response event is read with (not in its types). */
interface AnsweringClient {
  requestIterator?: { currentRequestIndex: number };
}

/**
 * Runs autocannon against every target at once for `warmupS + durationS` on the same connections;
 * pools their answers. Only requests sent after the warm-up are measured, and `measuring` runs
 * when it ends (to sample CPU). The warm-up is not a run of its own: ending one closes its
 * connections with their requests still queued in the server, and the next run's first request on
 * each new connection would wait behind that abandoned work (at 200 connections, one request in
 * fifty of a 10 s run, enough to set its p99).
 */
async function drive(
  targets: readonly StackProcess[],
  profile: Profile,
  connections: number,
  warmupS: number,
  durationS: number,
  data: ProfileData,
  measuring: () => Promise<void>,
): Promise<Driven> {
  const times: number[] = [];
  const routes = routesOf(profile);
  const byRoute: Record<string, number[]> = Object.fromEntries(routes.map((r) => [r, []]));
  const statuses: Record<string, number> = {};
  const warmStatuses: Record<string, number> = {};
  const started = performance.now();
  let measureFrom = Infinity;
  let sampled: Promise<void> = Promise.resolve();
  const warmupEnds = setTimeout(() => {
    measureFrom = performance.now();
    sampled = measuring();
  }, warmupS * 1000);
  const seen = new WeakSet<object>();
  const trace: string[] = [];
  const runs = targets.map((t, index) => {
    const share = Math.floor(connections / targets.length) + (index < connections % targets.length ? 1 : 0);
    const instance = autocannon({
      url: t.url,
      connections: share,
      duration: warmupS + durationS,
      // Long enough that a saturated server shows as latency, not only as timeouts.
      timeout: 30,
      requests: requestsFor(profile, data),
    });
    // The types name (statusCode, bytes, time); the tracker emits the client first.
    // Without pipelining the client's request iterator still points at the answered request
    // (autocannon moves it on after this event).
    (instance as unknown as NodeJS.EventEmitter).on('response', (client: AnsweringClient, statusCode: number, _bytes: number, responseTime: number) => {
      const now = performance.now();
      if (now - responseTime < measureFrom) {
        warmStatuses[statusCode] = (warmStatuses[statusCode] ?? 0) + 1;
        return;
      }
      times.push(responseTime);
      const route = routes[client.requestIterator?.currentRequestIndex ?? 0];
      if (route !== undefined) byRoute[route]?.push(responseTime);
      if (process.env.BENCH_LOAD_TRACE) {
        const first = !seen.has(client as object);
        seen.add(client as object);
        trace.push(`${Math.round(now - started)} ${Math.round(responseTime)} ${route} ${first ? 1 : 0}`);
      }
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
    return instance;
  });
  const results = await Promise.all(runs);
  const ended = performance.now();
  clearTimeout(warmupEnds);
  await sampled;
  if (process.env.BENCH_LOAD_TRACE) appendFileSync(process.env.BENCH_LOAD_TRACE, `# ${profile} ${durationS}\n${trace.join('\n')}\n`);
  return {
    times,
    byRoute,
    statuses,
    warmStatuses,
    measuredS: Number.isFinite(measureFrom) ? (ended - measureFrom) / 1000 : 0,
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    timeouts: results.reduce((sum, r) => sum + r.timeouts, 0),
  };
}

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const { targets, profile, connections, durationS, data } = options;
  const target = targets[0];
  if (!target) throw new Error('runScenario needs a target');
  const before = loadavg().map((v) => round(v));
  const cpuOfPids = (pids: readonly number[]) => {
    const each = pids.map((pid) => cpuMs(pid));
    return each.some((v) => v === undefined) ? undefined : (each as number[]).reduce((a, b) => a + b, 0);
  };
  const cpuOf = () => cpuOfPids(targets.map((t) => t.pid));
  const workerPids = options.stack?.pids('worker') ?? [];
  // Unmeasured first: JIT compilation, pools filling and caches warming are not steady state.
  let cpuBefore: number | undefined;
  let othersBefore: Awaited<ReturnType<BenchStack['sharedCpu']>> | undefined;
  let workersBefore = 0;
  const { times, byRoute, statuses, warmStatuses, measuredS, errors, timeouts } = await drive(
    targets,
    profile,
    connections,
    options.warmupS ?? 2,
    durationS,
    data,
    async () => {
      cpuBefore = cpuOf();
      workersBefore = cpuOfPids(workerPids) ?? 0;
      othersBefore = options.stack ? await options.stack.sharedCpu() : undefined;
    },
  );
  const result = { duration: measuredS, errors, timeouts };
  const cpuAfter = cpuOf();
  const othersAfter = options.stack ? await options.stack.sharedCpu() : undefined;
  const workersSpent = (cpuOfPids(workerPids) ?? workersBefore) - workersBefore;
  const others = othersBefore && othersAfter ? sharedCpuSpent(othersBefore, othersAfter) : undefined;
  const cpuUsed = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  const sorted = Float64Array.from(times).sort();
  const answered = times.length;
  const count = (predicate: (status: number) => boolean) =>
    Object.entries(statuses).reduce((sum, [status, n]) => (predicate(Number(status)) ? sum + n : sum), 0);
  const non2xx = count((s) => s < 200 || s >= 300);
  const heap = target.name === 'api' ? await heapUsedBytes(target) : undefined;
  const rssEach = targets.map((t) => rssBytes(t.pid));
  const rss = rssEach.some((v) => v === undefined) ? undefined : (rssEach as number[]).reduce((a, b) => a + b, 0);
  return {
    profile,
    target: target.name,
    target_processes: targets.length,
    connections,
    duration_s: round(result.duration),
    requests: answered,
    requests_per_s: round(answered / result.duration, 1),
    latency_ms: {
      mean: round(answered ? times.reduce((a, b) => a + b, 0) / answered : 0),
      p50: round(quantile(sorted, 0.5)),
      p95: round(quantile(sorted, 0.95)),
      p99: round(quantile(sorted, 0.99)),
      max: round(sorted[sorted.length - 1] ?? 0),
    },
    latency_by_route_ms:
      Object.keys(byRoute).length > 1
        ? Object.fromEntries(
            Object.entries(byRoute).map(([route, each]) => {
              const s = Float64Array.from(each).sort();
              return [
                route,
                { requests: s.length, p50: round(quantile(s, 0.5)), p95: round(quantile(s, 0.95)), p99: round(quantile(s, 0.99)), max: round(s[s.length - 1] ?? 0) },
              ];
            }),
          )
        : null,
    statuses,
    error_rate: round(answered ? non2xx / answered : 0, 4),
    non_2xx: non2xx,
    rate_limited_429: count((s) => s === 429),
    server_errors_5xx: count((s) => s >= 500),
    warmup_server_errors_5xx: Object.entries(warmStatuses).reduce((sum, [status, n]) => (Number(status) >= 500 ? sum + n : sum), 0),
    connection_errors: result.errors,
    timeouts: result.timeouts,
    target_memory_after: {
      ...(rss === undefined ? {} : { rss_mb: round(rss / MB, 1) }),
      ...(heap === undefined ? {} : { heap_used_mb: round(heap / MB, 1) }),
    },
    target_cpu:
      cpuUsed === undefined || !answered ? null : { ms_per_request: round(cpuUsed / answered, 3), cores: round(cpuUsed / 1000 / result.duration, 2) },
    other_cpu_ms_per_request:
      others && answered
        ? {
            postgres: round(others.postgres / answered, 3),
            postgres_by_client: Object.fromEntries(
              Object.entries(othersBefore && othersAfter ? postgresCpuByClient(othersBefore, othersAfter) : {}).map(([client, ms]) => [client, round(ms / answered, 3)]),
            ),
            redis: round(others.redis / answered, 3),
            load_generator: round(others.benchmark / answered, 3),
            workers: round(workersSpent / answered, 3),
          }
        : null,
    settled: options.settled ?? null,
    left_behind: null,
    load_average: { before, after: loadavg().map((v) => round(v)) },
  };
}
