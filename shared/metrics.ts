/**
 * The process's Prometheus registry and the series every role shares. Label sets stay bounded
 * (plan, type, outcome, route pattern — never tenant or job ids).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'catalytic_' });

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

export const jobsWaiting = new Gauge({
  name: 'catalytic_jobs_waiting',
  help: 'Jobs waiting in tenant queues, by plan',
  labelNames: ['plan'] as const,
  registers: [registry],
});

export const jobsActive = new Gauge({
  name: 'catalytic_jobs_active',
  help: 'Jobs running, by plan',
  labelNames: ['plan'] as const,
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
