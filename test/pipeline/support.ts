/**
 * Helpers of the pipeline tests: real worker processes, submitting and following jobs over HTTP,
 * and reading server-sent events.
 */
import { expect, type MockInstance, vi } from 'vitest';
import type { SubmitInput } from '../../api/jobs/jobs-service.ts';
import { type JobSubmission, SubmitJobBody } from '../../api/jobs/schemas.ts';
import { SCOPES } from '../../shared/auth/principal.ts';
import type { Db } from '../../shared/db.ts';
import { tenantQueueKey } from '../../shared/queues/names.ts';
import type { PipelineJobData } from '../../shared/queues/tenant-queues.ts';
import type { TestApi } from '../support/api.ts';
import type { TestEnvironment } from '../support/context.ts';
import { type CatalyticProcess, spawnCatalytic } from '../support/processes.ts';

export type Headers = Record<string, string>;

export interface JobJson {
  id: string;
  type: string;
  status: string;
  progress: number;
  attempts: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  queue_wait_ms: number | null;
  run_ms: number | null;
  error: { code: string; message: string } | null;
  result: Record<string, unknown> | null;
  links: { self: string; result: string; events: string };
}

const FINAL = new Set(['completed', 'failed', 'cancelled']);

/** Settings of worker processes in these tests: small pools, two cores shared by everyone. */
export const WORKER_ENV = {
  LOG_LEVEL: 'info',
  DATABASE_POOL_MAX: '4',
  KERNEL_THREADS: '1',
  WORKER_CONCURRENCY: '2',
};

/** Starts `catalytic worker` and waits until its pipeline fetches. */
export async function startWorker(env: TestEnvironment, extra: Record<string, string> = {}): Promise<CatalyticProcess> {
  const worker = spawnCatalytic(['worker'], { ...env.env, ...WORKER_ENV, ...extra });
  await worker.waitForLine(/job pipeline started/, 30_000);
  return worker;
}

/** Stops a worker process with SIGTERM and expects a clean exit. */
export async function stopWorker(worker: CatalyticProcess): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  worker.child.kill('SIGTERM');
  expect(await worker.exited, worker.output().slice(-3000)).toBe(0);
}

export async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`not JSON (${response.status}): ${text.slice(0, 300)}`);
  }
}

/** Submits a job and expects 202. */
export async function submit(api: TestApi, headers: Headers, body: unknown, extraHeaders: Headers = {}): Promise<JobJson> {
  const response = await api.request('/api/jobs', { body, headers: { ...headers, ...extraHeaders } });
  const job = await json<JobJson>(response);
  if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${JSON.stringify(job)}`);
  return job;
}

/** A job body parsed as `POST /api/jobs` parses it, for the jobs service, which takes bodies parsed. */
export function parsedSubmission(body: JobSubmission): SubmitInput {
  return SubmitJobBody.parse(body);
}

/**
 * Submits jobs through the API's own submit code (validation, plan checks, row, queue) without
 * HTTP, `parallel` at a time: for arranging large backlogs quickly.
 */
export async function submitBacklog(api: TestApi, tenant: { tenantId: string; userId: string }, plan: string, bodies: JobSubmission[], parallel = 8): Promise<string[]> {
  const service = api.deps.jobs;
  const principal = { kind: 'api_key' as const, tenantId: tenant.tenantId, userId: tenant.userId, apiKeyId: null, role: 'member' as const, scopes: new Set(SCOPES), planCode: plan };
  const ids: string[] = new Array(bodies.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < bodies.length) {
        const i = next++;
        ids[i] = (await service.submit(principal, parsedSubmission(bodies[i] as JobSubmission), undefined, '/api/jobs')).row.id;
      }
    }),
  );
  return ids;
}

/** The ids of the entries waiting in a tenant's queue, oldest first. */
export async function waitingEntries(env: TestEnvironment, tenantId: string): Promise<string[]> {
  return (await env.redis.lrange(tenantQueueKey(env.redisPrefix, tenantId, 'wait'), 0, -1)).reverse();
}

/** What a queue entry carries (undefined: no such entry). */
export async function entryData(env: TestEnvironment, tenantId: string, entryId: string): Promise<PipelineJobData | undefined> {
  const data = await env.redis.hget(tenantQueueKey(env.redisPrefix, tenantId, entryId), 'data');
  return data === null ? undefined : (JSON.parse(data) as PipelineJobData);
}

/**
 * The jobs waiting in a tenant's queue, one id per job queued: a single job's entry is its row's
 * id, an entry that tiny submissions share (or a chunk) counts each row it lists.
 */
export async function waitingJobIds(env: TestEnvironment, tenantId: string): Promise<string[]> {
  const ids: string[] = [];
  for (const entry of await waitingEntries(env, tenantId)) {
    const listed = (await entryData(env, tenantId, entry))?.job_ids;
    if (listed) ids.push(...listed);
    else ids.push(entry);
  }
  return ids;
}

/** Polls `GET /api/jobs/:id` until the job is final. */
export async function waitForJob(api: TestApi, headers: Headers, id: string, timeoutMs = 30_000): Promise<JobJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await json<JobJson>(await api.request(`/api/jobs/${id}`, { headers }));
    if (FINAL.has(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until a condition on the job row holds (arranging races), reading PostgreSQL. */
export async function waitForRow(db: Db, id: string, predicate: (row: { status: string; progress: number; attempts: number }) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await db('jobs').where({ id }).first('status', 'progress', 'attempts');
    if (row && predicate(row)) return row as { status: string; progress: number; attempts: number };
    if (Date.now() > deadline) throw new Error(`job ${id} row never matched: ${JSON.stringify(row)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads a server-sent event stream to its end. */
export async function readEvents(url: string, headers: Headers, timeoutMs = 30_000): Promise<{ status: number; contentType: string | null; events: SseEvent[] }> {
  const response = await fetch(url, { headers: { ...headers, accept: 'text/event-stream' }, signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  const events: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n');
    const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
    const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
    if (event && data !== undefined) events.push({ event, data: JSON.parse(data) });
  }
  return { status: response.status, contentType: response.headers.get('content-type'), events };
}

/** Raises a plan's request limits so a test can submit thousands of jobs quickly. */
export async function liftRateLimits(db: Db): Promise<void> {
  await db('plans').update({ requests_per_minute: 1_000_000, api_calls_per_month: -1 });
}

/** Rows as the worker left them. */
export async function jobRows(db: Db, ids: readonly string[]) {
  return db('jobs').whereIn('id', [...ids]).select('id', 'tenant_id', 'status', 'attempts', 'started_at', 'created_at', 'finished_at');
}

/**
 * Holds the API's queueing of written submissions (its producer's `enqueueMany`) until `release`:
 * a submission is answered once its row is committed, so the test can act between the two.
 * `restore` releases and puts the real producer back.
 */
export function holdQueueing(api: TestApi): { held: MockInstance; release: () => void; restore: () => void } {
  const producer = api.deps.jobs.producer;
  const real = producer.enqueueMany.bind(producer);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const held = vi.spyOn(producer, 'enqueueMany').mockImplementation(async (...args) => {
    await gate;
    return real(...args);
  });
  return {
    held,
    release,
    restore: () => {
      release();
      held.mockRestore();
    },
  };
}
