/**
 * Admission to the pool's threads, first come first served. A multi-slab run needs all its slab
 * threads at once (they meet at barriers), so it reserves them together before dispatching;
 * otherwise two runs each holding half the threads would wait for each other forever.
 */
import { KernelError } from './kernel-errors.ts';

interface Waiter {
  count: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class ThreadSlots {
  private free: number;
  private readonly waiters: Waiter[] = [];

  constructor(readonly total: number) {
    this.free = total;
  }

  /** Slots not reserved right now. */
  get available(): number {
    return this.free;
  }

  /**
   * Reserves `count` slots, waiting behind earlier requests. Rejects with a `cancelled` kernel
   * error if `signal` aborts first.
   */
  acquire(count: number, signal?: AbortSignal): Promise<void> {
    if (count > this.total) return Promise.reject(new RangeError(`cannot reserve ${count} of ${this.total} threads`));
    if (signal?.aborted) return Promise.reject(new KernelError('cancelled'));
    if (this.waiters.length === 0 && this.free >= count) {
      this.free -= count;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        count,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const onAbort = (): void => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        waiter.reject(new KernelError('cancelled'));
        this.drain();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Returns `count` slots and admits whoever waits next. */
  release(count: number): void {
    this.free += count;
    this.drain();
  }

  /** Refuses every waiting request with `err` (the pool is closing). */
  rejectWaiting(err: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(err);
  }

  private drain(): void {
    while (this.waiters.length > 0 && this.free >= this.waiters[0]!.count) {
      const waiter = this.waiters.shift()!;
      this.free -= waiter.count;
      waiter.resolve();
    }
  }
}
