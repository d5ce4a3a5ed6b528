/**
 * The memory a worker process lets its jobs reserve in total: a job's reservation is taken before
 * it is fetched and given back when its run ends, and the oldest job waiting past `holdAfterMs` gets
 * a hold so smaller jobs cannot starve it. See docs/architecture.md › Worker memory.
 */

/** A job at the head of its tenant's queue, with the bytes it reserves. */
export interface Candidate {
  tenantId: string;
  jobId: string;
  bytes: number;
}

export interface MemoryBudgetOptions {
  /** Total bytes jobs may reserve. */
  totalBytes: number;
  /**
   * How long a job waits for memory before memory is held for it, in ms.
   * @defaultValue 5000
   */
  holdAfterMs?: number;
  /**
   * A waiting job not seen again for this long is forgotten (it ran elsewhere or was cancelled), in ms.
   * @defaultValue 3000
   */
  forgetAfterMs?: number;
  now?: () => number;
}

interface Waiting extends Candidate {
  since: number;
  seenAt: number;
}

export class MemoryBudget {
  readonly total: number;
  private used = 0;
  private readonly waiting = new Map<string, Waiting>();
  private readonly holdAfterMs: number;
  private readonly forgetAfterMs: number;
  private readonly now: () => number;

  constructor(options: MemoryBudgetOptions) {
    if (!Number.isSafeInteger(options.totalBytes) || options.totalBytes < 1) {
      throw new RangeError('options.totalBytes must be a positive integer');
    }
    this.total = options.totalBytes;
    this.holdAfterMs = options.holdAfterMs ?? 5000;
    this.forgetAfterMs = options.forgetAfterMs ?? 3000;
    this.now = options.now ?? Date.now;
  }

  /** Bytes reserved by jobs this process holds. */
  get reserved(): number {
    return this.used;
  }

  /** Bytes not reserved. */
  get free(): number {
    return this.total - this.used;
  }

  /** Whether a job of `bytes` can ever run here. */
  canEverFit(bytes: number): boolean {
    return bytes <= this.total;
  }

  /** The job memory is held for, if any (the oldest that waited longer than `holdAfterMs`). */
  get hold(): Candidate | undefined {
    this.forget();
    const now = this.now();
    let oldest: Waiting | undefined;
    for (const entry of this.waiting.values()) {
      if (now - entry.since >= this.holdAfterMs && (!oldest || entry.since < oldest.since)) oldest = entry;
    }
    return oldest;
  }

  /**
   * Whether every job of at most `bytes` would be admitted now, so the caller may fetch without
   * looking at the job first.
   */
  admitsAnyUpTo(bytes: number): boolean {
    const hold = this.hold;
    return bytes <= this.free - (hold?.bytes ?? 0);
  }

  /**
   * Whether the candidate may start now: it fits beside the running jobs and leaves room for the
   * held job (unless it is the held job). A candidate turned away is remembered as waiting (for
   * the hold); one that can never fit here is not.
   */
  admits(candidate: Candidate): boolean {
    const hold = this.hold;
    const room = this.free - (hold && hold.jobId !== candidate.jobId ? hold.bytes : 0);
    if (candidate.bytes <= room) return true;
    if (this.canEverFit(candidate.bytes)) {
      const now = this.now();
      const seen = this.waiting.get(candidate.tenantId);
      const since = seen && seen.jobId === candidate.jobId ? seen.since : now;
      this.waiting.set(candidate.tenantId, { ...candidate, since, seenAt: now });
    }
    return false;
  }

  /** Reserves the candidate's bytes if {@link MemoryBudget.admits} it; its wait (if any) ends. */
  tryReserve(candidate: Candidate): boolean {
    if (!this.admits(candidate)) return false;
    this.used += candidate.bytes;
    this.waiting.delete(candidate.tenantId);
    return true;
  }

  /** A tenant's head job is no longer waiting here (its queue is empty, or another job leads it). */
  notWaiting(tenantId: string, jobId?: string): void {
    const seen = this.waiting.get(tenantId);
    if (seen && seen.jobId !== jobId) this.waiting.delete(tenantId);
  }

  /** Gives back a reservation. */
  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }

  private forget(): void {
    const cutoff = this.now() - this.forgetAfterMs;
    for (const [tenant, entry] of this.waiting) if (entry.seenAt < cutoff) this.waiting.delete(tenant);
  }
}
