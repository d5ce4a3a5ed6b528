/**
 * What PostgreSQL spends on a batch's submit and on its end, apart from the rest of the stack, for
 * batch-pg-cost.ts and chunk-storage-cost.ts: one pooled connection a side (so each side's CPU is
 * one backend's, read from /proc: PostgreSQL must run on this machine) and the WAL written, summed
 * over measured rounds and reported per job.
 */
import { createDb, type Db } from '../../shared/db.ts';
import { cpuMs } from '../support/process-stats.ts';
import type { PipelineStack } from './stack.ts';

interface Spent {
  api: number;
  worker: number;
  wal_submit: number;
  wal_finish: number;
}

export class PgCostMeter {
  private readonly spent: Spent = { api: 0, worker: 0, wal_submit: 0, wal_finish: 0 };

  private constructor(
    private readonly stack: PipelineStack,
    /** The API side's one connection. */
    readonly api: Db,
    /** The worker side's one connection. */
    readonly worker: Db,
    private readonly pids: { api: number; worker: number },
  ) {}

  static async open(stack: PipelineStack): Promise<PgCostMeter> {
    const api = createDb({ url: stack.databaseUrl, poolMin: 1, poolMax: 1, applicationName: 'catalytic:api' });
    const worker = createDb({ url: stack.databaseUrl, poolMin: 1, poolMax: 1, applicationName: 'catalytic:worker' });
    const backend = async (db: Db) => ((await db.raw('select pg_backend_pid() as pid')) as { rows: Array<{ pid: number }> }).rows[0]?.pid as number;
    return new PgCostMeter(stack, api, worker, { api: await backend(api), worker: await backend(worker) });
  }

  /** Runs one round's submit, then its end; adds their CPU and WAL to the totals when `measured`. */
  async round(measured: boolean, submit: () => Promise<void>, finish: () => Promise<void>): Promise<void> {
    const wal0 = await this.walLsn();
    const api0 = cpuMs(this.pids.api) ?? 0;
    await submit();
    const api1 = cpuMs(this.pids.api) ?? 0;
    const wal1 = await this.walLsn();
    const worker0 = cpuMs(this.pids.worker) ?? 0;
    await finish();
    const worker1 = cpuMs(this.pids.worker) ?? 0;
    const wal2 = await this.walLsn();
    if (!measured) return;
    this.spent.api += api1 - api0;
    this.spent.worker += worker1 - worker0;
    this.spent.wal_submit += await this.walBytes(wal0, wal1);
    this.spent.wal_finish += await this.walBytes(wal1, wal2);
  }

  /** The measured rounds' totals per job, for `jobs` jobs. */
  perJob(jobs: number): { postgres_cpu_ms_per_job: Record<string, number>; wal_bytes_per_job: Record<string, number> } {
    const { spent } = this;
    const per = (total: number, digits = 4) => Math.round((total / jobs) * 10 ** digits) / 10 ** digits;
    return {
      postgres_cpu_ms_per_job: { submit: per(spent.api), finish: per(spent.worker), total: per(spent.api + spent.worker) },
      wal_bytes_per_job: { submit: per(spent.wal_submit, 0), finish: per(spent.wal_finish, 0), total: per(spent.wal_submit + spent.wal_finish, 0) },
    };
  }

  async close(): Promise<void> {
    await this.api.destroy();
    await this.worker.destroy();
  }

  private async walLsn(): Promise<string> {
    return ((await this.stack.db.raw('select pg_current_wal_lsn()::text as lsn')) as { rows: Array<{ lsn: string }> }).rows[0]?.lsn as string;
  }

  private async walBytes(from: string, to: string): Promise<number> {
    return Number(((await this.stack.db.raw('select pg_wal_lsn_diff(?::pg_lsn, ?::pg_lsn) as n', [to, from])) as { rows: Array<{ n: string }> }).rows[0]?.n);
  }
}
