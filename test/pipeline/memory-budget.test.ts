/**
 * A worker's memory budget on its own: reservations of concurrent runs add up and never exceed
 * the budget, a job that does not fit is turned away until memory comes back, and a job that
 * waited long enough gets the memory that frees up even while smaller jobs keep arriving.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBudget } from '../../worker/memory-budget.ts';

const MB = 1024 * 1024;

describe('memory budget', () => {
  it('totals the reservations of concurrent runs and never lets them exceed the budget', async () => {
    const budget = new MemoryBudget({ totalBytes: 100 * MB });
    let peak = 0;
    let admitted = 0;
    let turnedAway = 0;
    let inFlight = 0;
    // 40 concurrent "fetch loops", each trying 25 jobs of 1-60 MB that run for a few milliseconds.
    await Promise.all(
      Array.from({ length: 40 }, async (_, loop) => {
        for (let i = 0; i < 25; i++) {
          const bytes = (1 + ((loop * 37 + i * 11) % 60)) * MB;
          if (!budget.tryReserve({ tenantId: `t${loop}`, jobId: `j${loop}.${i}`, bytes })) {
            turnedAway++;
            await new Promise((r) => setTimeout(r, 1));
            continue;
          }
          admitted++;
          inFlight += bytes;
          expect(budget.reserved).toBe(inFlight);
          peak = Math.max(peak, budget.reserved);
          await new Promise((r) => setTimeout(r, 1 + (i % 3)));
          inFlight -= bytes;
          budget.release(bytes);
        }
      }),
    );
    expect(admitted).toBeGreaterThan(0);
    expect(turnedAway).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(100 * MB);
    expect(peak).toBeGreaterThan(50 * MB);
    expect(budget.reserved).toBe(0);
  });

  it('turns a job away while it does not fit and admits it once memory comes back', () => {
    const budget = new MemoryBudget({ totalBytes: 10 * MB });
    expect(budget.tryReserve({ tenantId: 'a', jobId: 'a1', bytes: 6 * MB })).toBe(true);
    expect(budget.tryReserve({ tenantId: 'b', jobId: 'b1', bytes: 6 * MB })).toBe(false);
    expect(budget.reserved).toBe(6 * MB);
    budget.release(6 * MB);
    expect(budget.tryReserve({ tenantId: 'b', jobId: 'b1', bytes: 6 * MB })).toBe(true);
    expect(budget.reserved).toBe(6 * MB);
  });

  it('never remembers a job larger than the budget as waiting (it is for a larger worker)', () => {
    let now = 0;
    const budget = new MemoryBudget({ totalBytes: 10 * MB, holdAfterMs: 100, now: () => now });
    expect(budget.canEverFit(11 * MB)).toBe(false);
    expect(budget.tryReserve({ tenantId: 'huge', jobId: 'h', bytes: 11 * MB })).toBe(false);
    now = 1000;
    expect(budget.hold).toBeUndefined();
    expect(budget.tryReserve({ tenantId: 'small', jobId: 's', bytes: 9 * MB })).toBe(true);
  });

  it('holds memory for a job that waited too long: smaller jobs run only beside it, not in its way', () => {
    let now = 0;
    const budget = new MemoryBudget({ totalBytes: 10 * MB, holdAfterMs: 1000, forgetAfterMs: 5000, now: () => now });
    // Two small jobs run; a large one (8 MB) does not fit beside them.
    expect(budget.tryReserve({ tenantId: 's', jobId: 's1', bytes: 3 * MB })).toBe(true);
    expect(budget.tryReserve({ tenantId: 's', jobId: 's2', bytes: 3 * MB })).toBe(true);
    expect(budget.tryReserve({ tenantId: 'big', jobId: 'b', bytes: 8 * MB })).toBe(false);
    // Before the hold, small jobs of other tenants take memory as it frees up.
    budget.release(3 * MB);
    expect(budget.tryReserve({ tenantId: 's', jobId: 's3', bytes: 3 * MB })).toBe(true);
    // The large job has waited long enough: memory now accumulates for it.
    now = 1500;
    expect(budget.tryReserve({ tenantId: 'big', jobId: 'b', bytes: 8 * MB })).toBe(false);
    expect(budget.hold).toMatchObject({ jobId: 'b', bytes: 8 * MB });
    budget.release(3 * MB);
    // 7 MB free, 8 MB held: a small job would take what the large one waits for.
    expect(budget.tryReserve({ tenantId: 's', jobId: 's4', bytes: 3 * MB })).toBe(false);
    budget.release(3 * MB);
    expect(budget.tryReserve({ tenantId: 'big', jobId: 'b', bytes: 8 * MB })).toBe(true);
    expect(budget.hold).toBeUndefined();
    // Beside the large job, what is left still serves small jobs.
    expect(budget.tryReserve({ tenantId: 's', jobId: 's4', bytes: 2 * MB })).toBe(true);
    expect(budget.reserved).toBe(10 * MB);
  });

  it('lets go of a hold when the job stops waiting (taken elsewhere, cancelled, or not seen again)', () => {
    let now = 0;
    const budget = new MemoryBudget({ totalBytes: 10 * MB, holdAfterMs: 100, forgetAfterMs: 1000, now: () => now });
    expect(budget.tryReserve({ tenantId: 's', jobId: 's1', bytes: 5 * MB })).toBe(true);
    expect(budget.tryReserve({ tenantId: 'big', jobId: 'b', bytes: 8 * MB })).toBe(false);
    now = 200;
    expect(budget.tryReserve({ tenantId: 'big', jobId: 'b', bytes: 8 * MB })).toBe(false);
    expect(budget.hold?.jobId).toBe('b');
    budget.notWaiting('big', 'other-job');
    expect(budget.hold).toBeUndefined();
    expect(budget.tryReserve({ tenantId: 'big', jobId: 'b2', bytes: 8 * MB })).toBe(false);
    now = 400;
    expect(budget.tryReserve({ tenantId: 'big', jobId: 'b2', bytes: 8 * MB })).toBe(false);
    expect(budget.hold?.jobId).toBe('b2');
    now = 1500;
    expect(budget.hold).toBeUndefined();
    expect(budget.tryReserve({ tenantId: 's', jobId: 's2', bytes: 4 * MB })).toBe(true);
  });
});
