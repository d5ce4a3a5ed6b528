/**
 * The process's Prometheus registry and the series every role shares. Label sets stay bounded
 * (plan, type, outcome, route pattern — never tenant or job ids).
 *
 * Queue depth (`catalytic_jobs_waiting`, `catalytic_jobs_active`, `catalytic_queue_jobs`) is read
 * from Redis when Prometheus scrapes, through the source installed with `setQueueCountsSource`
 * (the API and the scheduler install one). Those values are cluster-wide: every process that
 * reports them reports the same numbers, so dashboards and autoscalers aggregate them with `max`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { VERSION } from './version.ts';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'catalytic_' });

export const buildInfo = new Gauge({
  name: 'catalytic_build_info',
  help: 'Always 1; the version label says which release is running',
  labelNames: ['version'] as const,
  registers: [registry],
});
buildInfo.set({ version: VERSION }, 1);

export const httpRequestDuration = new Histogram({
  name: 'catalytic_http_request_duration_seconds',
  help: 'API request duration by method, route pattern and status class',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const jobsFinished = new Counter({
  name: 'catalytic_jobs_finished_total',
  help: 'Jobs that reached a final state, by type, state and plan',
  labelNames: ['type', 'status', 'plan'] as const,
  registers: [registry],
});

export const jobsSubmitted = new Counter({
  name: 'catalytic_jobs_submitted_total',
  help: 'Jobs accepted by the API, by type and plan',
  labelNames: ['type', 'plan'] as const,
  registers: [registry],
});

export const jobSubmitBatchSize = new Histogram({
  name: 'catalytic_job_submit_batch_size',
  help: 'Submissions written by one database transaction of the submit path (concurrent submissions of a tenant are written together)',
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
  registers: [registry],
});

export const jobQueueWait = new Histogram({
  name: 'catalytic_job_queue_wait_seconds',
  help: 'Time from submit to start, by type and plan',
  labelNames: ['type', 'plan'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers: [registry],
});

export const jobRunTime = new Histogram({
  name: 'catalytic_job_run_seconds',
  help: 'Kernel run time, by type and plan',
  labelNames: ['type', 'plan'] as const,
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 1800],
  registers: [registry],
});

/** Queue states reported by `catalytic_queue_jobs` (BullMQ's own state names). */
export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** One aggregated count: a kind of queue (`tenant`, `webhooks`), a plan (`none` outside tenants), a state. */
export interface QueueCountSample {
  queue: string;
  plan: string;
  state: QueueState;
  count: number;
}

/** Reads the current counts; installed by a role that can reach the queues. */
export type QueueCountsSource = () => Promise<QueueCountSample[]>;

let queueCountsSource: QueueCountsSource | undefined;
// The three queue gauges are collected in parallel on each scrape: they share one read.
let pendingRead: Promise<QueueCountSample[] | undefined> | undefined;

/**
 * Installs (or with `undefined` removes) where queue counts come from at scrape time. Returns what
 * uninstalls this source, leaving in place any source installed after it.
 */
export function setQueueCountsSource(source: QueueCountsSource | undefined): () => void {
  queueCountsSource = source;
  return () => {
    if (queueCountsSource === source) queueCountsSource = undefined;
  };
}

export const queueCountErrors = new Counter({
  name: 'catalytic_queue_count_errors_total',
  help: 'Scrapes whose queue counts could not be read (the queue series are absent from those scrapes)',
  registers: [registry],
});

function readQueueCounts(): Promise<QueueCountSample[] | undefined> {
  const source = queueCountsSource;
  if (!source) return Promise.resolve(undefined);
  pendingRead ??= source()
    .catch(() => {
      queueCountErrors.inc();
      return undefined;
    })
    .finally(() => {
      // Let the other gauges of this scrape reuse the read, then forget it.
      setImmediate(() => (pendingRead = undefined));
    });
  return pendingRead;
}

/** Sums samples into a gauge; with no samples (no source, or Redis down) the gauge has no series. */
async function collectInto<L extends string>(
  gauge: Gauge<L>,
  pick: (sample: QueueCountSample) => Partial<Record<L, string>> | undefined,
): Promise<void> {
  const samples = await readQueueCounts();
  gauge.reset();
  if (!samples) return;
  const sums = new Map<string, { labels: Partial<Record<L, string>>; value: number }>();
  for (const sample of samples) {
    const labels = pick(sample);
    if (!labels) continue;
    const key = JSON.stringify(labels);
    const entry = sums.get(key) ?? { labels, value: 0 };
    entry.value += sample.count;
    sums.set(key, entry);
  }
  for (const { labels, value } of sums.values()) gauge.set(labels, value);
}

const RUNNABLE: ReadonlySet<QueueState> = new Set(['waiting', 'prioritized']);

export const jobsWaiting = new Gauge({
  name: 'catalytic_jobs_waiting',
  help: 'Jobs waiting to run in tenant queues (waiting + prioritized), by plan; cluster-wide, aggregate with max',
  labelNames: ['plan'] as const,
  registers: [registry],
  async collect() {
    await collectInto(this, (s) => (s.queue === 'tenant' && RUNNABLE.has(s.state) ? { plan: s.plan } : undefined));
  },
});

export const jobsActive = new Gauge({
  name: 'catalytic_jobs_active',
  help: 'Jobs running, by plan; cluster-wide, aggregate with max',
  labelNames: ['plan'] as const,
  registers: [registry],
  async collect() {
    await collectInto(this, (s) => (s.queue === 'tenant' && s.state === 'active' ? { plan: s.plan } : undefined));
  },
});

export const queueJobs = new Gauge({
  name: 'catalytic_queue_jobs',
  help: 'BullMQ jobs by queue kind (tenant queues summed per plan; webhooks), plan and state; cluster-wide, aggregate with max',
  labelNames: ['queue', 'plan', 'state'] as const,
  registers: [registry],
  async collect() {
    await collectInto(this, (s) => ({ queue: s.queue, plan: s.plan, state: s.state }));
  },
});

export const workerWriteBatchSize = new Histogram({
  name: 'catalytic_worker_write_batch_size',
  help: 'Jobs written by one database write of a worker, by write (start: marking jobs running; finish: final states with results and events)',
  labelNames: ['write'] as const,
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
  registers: [registry],
});

export const kernelCells = new Counter({
  name: 'catalytic_kernel_cells_total',
  help: 'Cells processed by kernels (cells × steps for diffusion); rate() gives cells per second',
  labelNames: ['type'] as const,
  registers: [registry],
});

export const webhookDeliveries = new Counter({
  name: 'catalytic_webhook_deliveries_total',
  help: 'Webhook delivery attempts by outcome (success, failure, disabled, refused)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** `2xx`, `4xx`, …: the bounded status label of HTTP series. */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}
