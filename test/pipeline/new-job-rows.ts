/** Job rows for the submit writers' tests (shared/jobs/insert-statement.ts, quota-insert-statement.ts), and the usage they count. */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../shared/db.ts';
import type { NewJob } from '../../shared/jobs/repository.ts';

/** A tiny shortest_path job of `tenantId` on an inline 8×8 lattice, 64 compute units. */
export function newJob(tenantId: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id: randomUUID(), tenantId, latticeId: null, latticeVersionId: null, type: 'shortest_path', lattice: { shape: [8, 8], boundary: 'open' },
    params: { start: [0, 0], end: [7, 7] }, cells: 64, memoryBytes: 4096, computeUnits: 64, maxAttempts: 3, idempotencyKey: null, requestHash: null,
    ...overrides,
  };
}

/** A tenant's usage counter `metric`, summed over its days. */
export async function usageOf(db: Db, tenantId: string, metric: string): Promise<number> {
  const rows = (await db('usage_counters').where({ tenant_id: tenantId, metric }).select('value')) as Array<{ value: number }>;
  return rows.reduce((sum, r) => sum + Number(r.value), 0);
}
