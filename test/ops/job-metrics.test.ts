/**
 * The job series move when jobs really run: a job submitted over HTTP to the API and run by a
 * real `catalytic worker` process shows up in the API's `catalytic_jobs_submitted_total` and in
 * the worker's finished-job, run-time, queue-wait and kernel-throughput series, labelled by type,
 * state and plan only.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import type { CatalyticProcess } from '../support/processes.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { startWorker, stopWorker, submit, waitForJob } from '../pipeline/support.ts';
import { type Exposition, parsePrometheusText, sampleValue } from './prometheus-text.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let tenant: TestTenant;
let worker: CatalyticProcess;
let workerMetrics: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function scrape(url: string): Promise<Exposition> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return parsePrometheusText(await response.text());
}

beforeAll(async () => {
  tenant = await createTestTenant(env.db, { plan: 'professional' });
  const port = await freePort();
  workerMetrics = `http://127.0.0.1:${port}/metrics`;
  worker = await startWorker(env, { METRICS_PORT: String(port) });
}, 60_000);

afterAll(async () => {
  if (worker) await stopWorker(worker);
});

describe('job series', () => {
  it('move when a job is submitted and runs', async () => {
    const labels = { type: 'components', plan: 'professional' };
    const apiBefore = await scrape(`${api.url}/metrics`);
    const workerBefore = await scrape(workerMetrics);
    const value = (e: Exposition, name: string, l: Record<string, string>) => sampleValue(e, name, l) ?? 0;

    const job = await submit(api, tenant.headers, { type: 'components', lattice: { shape: [40, 50], obstacles: { density: 0.3, seed: 11 } } });
    const done = await waitForJob(api, tenant.headers, job.id);
    expect(done.status).toBe('completed');

    const apiAfter = await scrape(`${api.url}/metrics`);
    const workerAfter = await scrape(workerMetrics);
    expect(value(apiAfter, 'catalytic_jobs_submitted_total', labels) - value(apiBefore, 'catalytic_jobs_submitted_total', labels)).toBe(1);
    const finished = { ...labels, status: 'completed' };
    expect(value(workerAfter, 'catalytic_jobs_finished_total', finished) - value(workerBefore, 'catalytic_jobs_finished_total', finished)).toBe(1);
    expect(value(workerAfter, 'catalytic_job_run_seconds_count', labels) - value(workerBefore, 'catalytic_job_run_seconds_count', labels)).toBe(1);
    expect(value(workerAfter, 'catalytic_job_queue_wait_seconds_count', labels) - value(workerBefore, 'catalytic_job_queue_wait_seconds_count', labels)).toBe(1);
    const cells = value(workerAfter, 'catalytic_kernel_cells_total', { type: 'components' }) - value(workerBefore, 'catalytic_kernel_cells_total', { type: 'components' });
    expect(cells).toBeGreaterThanOrEqual(2000);
    // The submit was timed under its route pattern, not the job's URL.
    expect(value(apiAfter, 'catalytic_http_request_duration_seconds_count', { method: 'POST', route: '/api/jobs', status: '2xx' })).toBeGreaterThanOrEqual(1);
    expect(apiAfter.samples.some((s) => Object.values(s.labels).some((v) => v.includes(job.id) || v.includes(tenant.tenantId)))).toBe(false);
    expect(workerAfter.samples.some((s) => Object.values(s.labels).some((v) => v.includes(job.id) || v.includes(tenant.tenantId)))).toBe(false);
  });
});
