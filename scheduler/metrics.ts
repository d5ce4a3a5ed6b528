/** Series of the scheduler role: maintenance runs by task and outcome, and backup freshness. */
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../shared/metrics.ts';

export const maintenanceRuns = new Counter({
  name: 'catalytic_maintenance_runs_total',
  help: 'Maintenance task runs by task and outcome (success, failure, skipped: another process holds the task)',
  labelNames: ['task', 'outcome'] as const,
  registers: [registry],
});

export const maintenanceDuration = new Histogram({
  name: 'catalytic_maintenance_run_seconds',
  help: 'Duration of maintenance task runs, by task',
  labelNames: ['task'] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800],
  registers: [registry],
});

export const retentionDeleted = new Counter({
  name: 'catalytic_retention_deleted_total',
  help: 'Rows deleted by retention, by table',
  labelNames: ['table'] as const,
  registers: [registry],
});

export const backupLastSuccess = new Gauge({
  name: 'catalytic_backup_last_success_timestamp_seconds',
  help: 'When this process last finished a backup (alert when it is more than a day old)',
  registers: [registry],
});

export const backupSize = new Gauge({
  name: 'catalytic_backup_size_bytes',
  help: 'Size of the last backup this process took',
  registers: [registry],
});
