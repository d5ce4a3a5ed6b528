/**
 * Timings through the real API: a stack of its own (bench/support/stack.ts: a fresh database,
 * `catalytic api` and one `catalytic worker` process with a two-thread kernel pool, an enterprise
 * tenant with no cell limit), jobs submitted over HTTP one at a time and polled until final. A
 * procedural lattice is a few bytes to describe, so submitting millions of cells is cheap.
 * The figure is the job's own `run_ms` (start of the attempt to its final write), best of the
 * measured runs after one unmeasured run of the same job.
 */
import { BenchStack } from '../support/stack.ts';
import { closeClients, postJson } from '../pipeline/http-post.ts';
import { median, round } from './measure.ts';

/** One job to time through the API. */
export interface ApiCase {
  name: string;
  type: 'shortest_path' | 'components' | 'diffusion';
  lattice: unknown;
  params: unknown;
  /** The body's `artefacts` (e.g. `['labels']`); left out when absent. */
  artefacts?: string[];
  /** Measured runs (after one unmeasured run). */
  runs: number;
}

/** What one case measured. */
export interface ApiTiming {
  name: string;
  best_run_ms: number | null;
  median_run_ms: number | null;
  run_ms: Array<number | null>;
  queue_wait_ms: Array<number | null>;
  /** Submission to the poll that saw the job final, in the client. */
  client_ms: number[];
  /** The last run's result without its bulky parts (path, field). */
  result: Record<string, unknown> | null;
  error?: string;
}

const POLL_MS = 10;
/**
 * Each poll is held by the API until the job changes (`Prefer: wait`), as the SDK and the CLI wait.
 * `BENCH_API_POLL=interval` polls every POLL_MS instead, as a naive client would: beside a running
 * kernel the client, the API and Redis then take about twice the CPU, on the kernel's two cores
 * (docs/performance.md › Run time through the API).
 */
export const apiPollMode: 'held' | 'interval' = process.env.BENCH_API_POLL === 'interval' ? 'interval' : 'held';
const held = apiPollMode === 'held';
const JOB_TIMEOUT_MS = 10 * 60_000;

interface JobBody {
  id: string;
  status: string;
  run_ms: number | null;
  queue_wait_ms: number | null;
  error: unknown;
  result: Record<string, unknown> | null;
}

async function runOnce(apiUrl: string, authorization: string, job: ApiCase): Promise<{ body: JobBody; clientMs: number }> {
  const started = performance.now();
  const answer = await postJson(new URL('/api/jobs', apiUrl), { authorization }, JSON.stringify({ type: job.type, lattice: job.lattice, params: job.params, ...(job.artefacts ? { artefacts: job.artefacts } : {}) }));
  if (answer.status !== 202) throw new Error(`submit answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  const { id } = JSON.parse(answer.body) as { id: string };
  for (;;) {
    const response = await fetch(new URL(`/api/jobs/${id}`, apiUrl), { headers: held ? { authorization, prefer: 'wait=25' } : { authorization } });
    const body = (await response.json()) as JobBody;
    if (body.status === 'completed') return { body, clientMs: performance.now() - started };
    if (body.status === 'failed' || body.status === 'cancelled') throw new Error(`job ${body.status}: ${JSON.stringify(body.error)}`);
    if (performance.now() - started > JOB_TIMEOUT_MS) throw new Error(`job not final after ${JOB_TIMEOUT_MS} ms`);
    if (!held) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function summary(result: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!result) return null;
  const { path: _path, field: _field, ...rest } = result;
  return rest;
}

/**
 * Starts a stack, runs each case (one unmeasured run, then `runs` measured ones), stops the stack.
 *
 * @param log - progress lines
 */
export async function apiTimings(cases: readonly ApiCase[], kernelThreads: number, log: (line: string) => void): Promise<ApiTiming[]> {
  const stack = new BenchStack({
    serverUrl: process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432',
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    name: 'lattice',
    credentialPerSecond: 1000,
  });
  const out: ApiTiming[] = [];
  try {
    await stack.start();
    const [tenant] = await stack.tenants(1);
    const api = await stack.api();
    await stack.worker({ KERNEL_THREADS: String(kernelThreads), WORKER_CONCURRENCY: '1' });
    for (const job of cases) {
      log(`API: ${job.name} …`);
      const timing: ApiTiming = { name: job.name, best_run_ms: null, median_run_ms: null, run_ms: [], queue_wait_ms: [], client_ms: [], result: null };
      try {
        await runOnce(api.url, tenant!.authorization, job);
        for (let i = 0; i < job.runs; i++) {
          const { body, clientMs } = await runOnce(api.url, tenant!.authorization, job);
          timing.run_ms.push(body.run_ms);
          timing.queue_wait_ms.push(body.queue_wait_ms);
          timing.client_ms.push(round(clientMs));
          timing.result = summary(body.result);
        }
        const measured = timing.run_ms.filter((ms): ms is number => typeof ms === 'number');
        timing.best_run_ms = measured.length > 0 ? Math.min(...measured) : null;
        timing.median_run_ms = measured.length > 0 ? median(measured) : null;
      } catch (err) {
        timing.error = (err as Error).message;
        log(`API: ${job.name} failed: ${timing.error}`);
      }
      out.push(timing);
    }
  } finally {
    closeClients();
    await stack.stop();
  }
  return out;
}
