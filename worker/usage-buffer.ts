/**
 * Compute usage (`compute_cells`) of finished jobs, summed per tenant in memory and written once
 * a second. Writing it in each job's own transaction would make every completion of a tenant
 * wait for the previous one's commit (they update the same counter row), capping a busy tenant
 * at a few hundred jobs per second. The cost: a worker killed without closing loses at most a
 * second of compute usage (counted low, never twice).
 */
import type { Db } from '../shared/db.ts';
import type { Logger } from '../shared/logger.ts';
import { recordUsage, USAGE_METRICS } from '../shared/usage.ts';

export class UsageBuffer {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly intervalMs = 1000,
  ) {}

  add(tenantId: string, cells: number): void {
    if (cells <= 0) return;
    this.pending.set(tenantId, (this.pending.get(tenantId) ?? 0) + cells);
    if (!this.timer && !this.closed) this.timer = setTimeout(() => void this.flush(), this.intervalMs);
  }

  /** Writes what is pending; a failed write is kept for the next flush. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
      if (this.pending.size > 0 && !this.closed) this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
    });
    return this.flushing;
  }

  private async write(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    for (const [tenantId, cells] of batch) {
      try {
        await recordUsage(this.db, tenantId, USAGE_METRICS.computeCells, cells);
      } catch (err) {
        this.logger.warn({ err, tenantId }, 'could not record compute usage; will retry');
        this.pending.set(tenantId, (this.pending.get(tenantId) ?? 0) + cells);
      }
    }
  }

  /** Writes what is left (once more if the first write failed). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.pending.size > 0) await this.flush();
  }
}
