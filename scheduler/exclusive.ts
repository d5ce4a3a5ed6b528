/**
 * One runner at a time across every scheduler process: a transaction-scoped advisory lock taken
 * with `pg_try_advisory_xact_lock`. Whoever gets it runs the task while its transaction stays
 * open; the others skip this run. A process that dies drops its connection and the lock with it.
 */
import type { Db } from '../shared/db.ts';

/** Advisory-lock namespace (first key) of maintenance tasks; the second key is the task's hash. */
const MAINTENANCE_LOCK_NAMESPACE = 7_242_016;

export type ExclusiveResult<T> = { ran: true; value: T } | { ran: false };

/**
 * Runs `fn` if no other process is running the task called `name`. `fn` uses its own connections
 * (the lock's connection only holds the lock), so the pool needs at least two.
 */
export async function runExclusive<T>(db: Db, name: string, fn: () => Promise<T>): Promise<ExclusiveResult<T>> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: Array<{ locked: boolean }> }>(
      'select pg_try_advisory_xact_lock(?, hashtext(?)) as locked',
      [MAINTENANCE_LOCK_NAMESPACE, name],
    );
    if (!rows[0]?.locked) return { ran: false } as const;
    return { ran: true, value: await fn() } as const;
  });
}
