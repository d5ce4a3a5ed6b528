/**
 * The shared memory one kernel run coordinates through: a cancel flag, a progress counter, a
 * barrier for the slab threads, and a few numbers per slab (frontier sizes, counts). Main and
 * threads wrap the same two SharedArrayBuffers in a JobControl.
 */
import { KernelError } from './kernel-errors.ts';

/** Int32 slots. */
const CANCEL = 0;
const FAILED = 1;
const PROGRESS = 2;
const BARRIER_COUNT = 3;
const BARRIER_GENERATION = 4;
const CLAIM = 5;
const ARRIVED = 6;
const INT_SLOTS = 8;

/** Int32 slots per slab after the control's own, free for a kernel's own use (publishSlabInt, awaitSlabInt). */
export const SLAB_INTS = 2;

/** Float64 slots before the per-slab ones, free for a kernel's own use. */
export const SHARED_FLOATS = 16;
/** Float64 slots per slab, free for a kernel's own use. */
export const SLAB_FLOATS = 8;

/** Progress is stored in millionths. */
const PROGRESS_SCALE = 1_000_000;

/** Barrier waiters spin this many times before sleeping: a slab step is often shorter than a wake-up. */
const BARRIER_SPINS = 4000;
/** Barrier waiters sleep at most this long before re-checking the cancel flag, in ms. */
const BARRIER_SLEEP_MS = 20;

/** The buffers of a JobControl, passed to each thread. */
export interface JobControlBuffers {
  readonly ints: SharedArrayBuffer;
  readonly floats: SharedArrayBuffer;
  readonly threads: number;
}

/** Thrown in a thread that stops because a sibling thread of the same run failed. */
export class SiblingFailed extends Error {
  override readonly name = 'SiblingFailed';
}

/** Shared control block of one kernel run. */
export class JobControl {
  readonly ints: Int32Array;
  readonly floats: Float64Array;
  readonly threads: number;

  private constructor(readonly buffers: JobControlBuffers) {
    this.ints = new Int32Array(buffers.ints);
    this.floats = new Float64Array(buffers.floats);
    this.threads = buffers.threads;
  }

  /** A fresh control block for a run on `threads` slab threads. */
  static create(threads: number): JobControl {
    return new JobControl({
      ints: new SharedArrayBuffer((INT_SLOTS + SLAB_INTS * threads) * 4),
      floats: new SharedArrayBuffer((SHARED_FLOATS + SLAB_FLOATS * threads) * 8),
      threads,
    });
  }

  /**
   * A control block in ordinary memory, for a run on the caller's thread that no other thread
   * reads (Atomics work on it the same); cheaper to make and to collect than shared memory.
   */
  static createPrivate(threads: number): JobControl {
    return new JobControl({
      ints: new ArrayBuffer((INT_SLOTS + SLAB_INTS * threads) * 4) as unknown as SharedArrayBuffer,
      floats: new ArrayBuffer((SHARED_FLOATS + SLAB_FLOATS * threads) * 8) as unknown as SharedArrayBuffer,
      threads,
    });
  }

  /** Wraps buffers made by {@link JobControl.create}, in another thread. */
  static attach(buffers: JobControlBuffers): JobControl {
    return new JobControl(buffers);
  }

  /** Bytes of shared memory the block takes. */
  get bytes(): number {
    return this.buffers.ints.byteLength + this.buffers.floats.byteLength;
  }

  /** Asks every thread of the run to stop, and wakes those waiting at the barrier or for a slab's word. */
  cancel(): void {
    Atomics.store(this.ints, CANCEL, 1);
    this.wakeAll();
  }

  /** Wakes every waiter: at the barrier and on each slab's words. */
  private wakeAll(): void {
    for (let i = BARRIER_GENERATION; i < this.ints.length; i++) Atomics.notify(this.ints, i);
  }

  get cancelled(): boolean {
    return Atomics.load(this.ints, CANCEL) !== 0;
  }

  /** Marks the run failed so sibling threads stop instead of waiting for this one forever. */
  fail(): void {
    Atomics.store(this.ints, FAILED, 1);
    this.wakeAll();
  }

  /**
   * Throws if the run was cancelled or a sibling failed. Kernels call it every few thousand
   * cells, which keeps cancellation well under 100 ms.
   */
  checkpoint(): void {
    if (Atomics.load(this.ints, CANCEL) !== 0) throw new KernelError('cancelled');
    if (Atomics.load(this.ints, FAILED) !== 0) throw new SiblingFailed('stopped: another slab thread failed');
  }

  /** Progress in [0, 1]. */
  get progress(): number {
    return Atomics.load(this.ints, PROGRESS) / PROGRESS_SCALE;
  }

  /** Raises progress to `fraction` (never lowers it), from any thread. */
  publishProgress(fraction: number): void {
    const next = Math.round(Math.min(1, Math.max(0, fraction)) * PROGRESS_SCALE);
    let current = Atomics.load(this.ints, PROGRESS);
    while (next > current) {
      const seen = Atomics.compareExchange(this.ints, PROGRESS, current, next);
      if (seen === current) return;
      current = seen;
    }
  }

  /**
   * Claims a one-time event (e.g. "the searches met") in round `round` (a positive integer);
   * true for the single thread that gets it first.
   */
  claim(round: number): boolean {
    return Atomics.compareExchange(this.ints, CLAIM, 0, round) === 0;
  }

  /**
   * Whether the event was claimed in round `round` or before. Threads leave a barrier at
   * different moments, so a fast one may already claim in the next round while a slow one still
   * asks about this one: the round number keeps their answers the same.
   */
  claimedBy(round: number): boolean {
    const claimed = Atomics.load(this.ints, CLAIM);
    return claimed !== 0 && claimed <= round;
  }

  /** Whether the event was claimed at all. */
  get claimed(): boolean {
    return Atomics.load(this.ints, CLAIM) !== 0;
  }

  /**
   * Counts this thread in as done with its part and says whether it came last: true for exactly
   * one of the run's threads, which then sees every plain write the others made before arriving
   * (the Atomics add orders them), without waiting for anyone. Call once per thread per run.
   */
  arriveLast(): boolean {
    this.checkpoint();
    return Atomics.add(this.ints, ARRIVED, 1) === this.threads - 1;
  }

  /** Index into `floats` of slab `slab`'s slot `slot`. */
  slabSlot(slab: number, slot: number): number {
    return SHARED_FLOATS + slab * SLAB_FLOATS + slot;
  }

  /**
   * Sets slab `slab`'s int slot `slot` (0 ≤ slot < SLAB_INTS) to `value` and wakes its waiters:
   * every plain write this thread made before is visible to a thread that sees the value.
   */
  publishSlabInt(slab: number, slot: number, value: number): void {
    const at = INT_SLOTS + slab * SLAB_INTS + slot;
    Atomics.store(this.ints, at, value);
    Atomics.notify(this.ints, at);
  }

  /**
   * Waits until slab `slab`'s int slot `slot` is at least `atLeast` (values only grow): a wait for
   * one other thread's step, not for all of them as at the barrier. Polls `spins` times, then
   * sleeps until woken; throws when the run is cancelled or a sibling failed.
   */
  awaitSlabInt(slab: number, slot: number, atLeast: number, spins = BARRIER_SPINS): void {
    const { ints } = this;
    const at = INT_SLOTS + slab * SLAB_INTS + slot;
    let polled = 0;
    for (;;) {
      const seen = Atomics.load(ints, at);
      if (seen >= atLeast) return;
      if (polled < spins) {
        polled++;
        continue;
      }
      this.checkpoint();
      Atomics.wait(ints, at, seen, BARRIER_SLEEP_MS);
    }
  }

  /** The sum of one per-slab slot over all slabs. */
  sumSlabs(slot: number): number {
    let sum = 0;
    for (let t = 0; t < this.threads; t++) sum += this.floats[SHARED_FLOATS + t * SLAB_FLOATS + slot]!;
    return sum;
  }

  /**
   * Waits until every slab thread of the run arrives. Plain writes made before the barrier are
   * visible to every thread after it (the Atomics operations order them). Throws when the run
   * is cancelled or a sibling failed, so no thread waits for one that will never come.
   *
   * @param spins - times a waiter polls before it sleeps: worth it when the others are a wake-up
   *   away (short search rounds), not when a phase lasts milliseconds (a diffusion step), where
   *   polling only takes a core from a thread still working on a busy machine
   */
  barrier(spins = BARRIER_SPINS): void {
    this.checkpoint();
    if (this.threads === 1) return;
    const { ints } = this;
    const generation = Atomics.load(ints, BARRIER_GENERATION);
    if (Atomics.add(ints, BARRIER_COUNT, 1) === this.threads - 1) {
      Atomics.store(ints, BARRIER_COUNT, 0);
      Atomics.add(ints, BARRIER_GENERATION, 1);
      Atomics.notify(ints, BARRIER_GENERATION);
      return;
    }
    let polled = 0;
    while (Atomics.load(ints, BARRIER_GENERATION) === generation) {
      if (polled < spins) {
        polled++;
        continue;
      }
      this.checkpoint();
      Atomics.wait(ints, BARRIER_GENERATION, generation, BARRIER_SLEEP_MS);
    }
    this.checkpoint();
  }
}
