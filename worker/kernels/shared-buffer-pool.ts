/**
 * Shared buffers kept between kernel runs, per process. A fresh SharedArrayBuffer's pages are
 * mapped on first write, at ~3 ms of CPU per MiB on the 2-core VM (docs/performance.md › Kept
 * kernel memory), so a run that allocates its slab arrays fresh pays that on every job. A run
 * takes its buffers here (a kept one of the same length, zeroed: bit for bit a fresh buffer) and
 * gives them back once no thread uses them. What is kept between runs, at most `POOL_BYTES`
 * (oldest dropped first), is per-process headroom (docs/architecture.md › Kernels), not part of
 * any job's reservation; a run reserves its own buffers as before.
 */

/**
 * Zeroes every byte of `buffer`. On shared memory V8 fills a Uint8Array a byte at a time (about
 * 2.7 GB/s on the VM, 0.39 ms for a 216³ slab's components faces) and a BigInt64Array eight
 * bytes at a time (0.05 ms): the words first, then the bytes past the last whole word.
 */
export function zeroShared(buffer: SharedArrayBuffer): void {
  const words = buffer.byteLength >> 3;
  new BigInt64Array(buffer, 0, words).fill(0n);
  new Uint8Array(buffer, words << 3).fill(0);
}

/** Most bytes of shared buffers a process keeps between runs. */
export const POOL_BYTES = 32 * 2 ** 20;

export class SharedBufferPool {
  /** Kept buffers by length, each list oldest first. */
  private readonly free = new Map<number, SharedArrayBuffer[]>();
  /** Every kept buffer, oldest first (for eviction). */
  private readonly order = new Set<SharedArrayBuffer>();
  private bytes = 0;

  constructor(private readonly limit = POOL_BYTES) {}

  /** Bytes kept now. */
  get keptBytes(): number {
    return this.bytes;
  }

  /** A zeroed buffer of exactly `bytes`: a kept one when there is one, else fresh. */
  take(bytes: number): SharedArrayBuffer {
    const { buffer, dirty } = this.takeUnzeroed(bytes);
    // The last run's bytes (another tenant's) must not reach this one.
    if (dirty) zeroShared(buffer);
    return buffer;
  }

  /**
   * A buffer of exactly `bytes` that the caller zeroes before anything reads it when `dirty` (a
   * kept one, holding the last run's bytes); a fresh one is zero already. For buffers that the
   * thread using them can zero itself, in parallel with the run's other threads.
   */
  takeUnzeroed(bytes: number): { buffer: SharedArrayBuffer; dirty: boolean } {
    const list = this.free.get(bytes);
    const kept = list?.pop();
    if (kept === undefined) return { buffer: new SharedArrayBuffer(bytes), dirty: false };
    if (list!.length === 0) this.free.delete(bytes);
    this.order.delete(kept);
    this.bytes -= bytes;
    return { buffer: kept, dirty: true };
  }

  /**
   * Keeps `buffer` for a later run; call only once no thread reads or writes it. Buffers larger
   * than the limit are dropped; older ones make room for newer ones.
   */
  give(buffer: SharedArrayBuffer): void {
    const bytes = buffer.byteLength;
    if (bytes === 0 || bytes > this.limit || this.order.has(buffer)) return;
    for (const old of this.order) {
      if (this.bytes + bytes <= this.limit) break;
      this.drop(old);
    }
    this.order.add(buffer);
    const list = this.free.get(bytes);
    if (list) list.push(buffer);
    else this.free.set(bytes, [buffer]);
    this.bytes += bytes;
  }

  /** Forgets every kept buffer. */
  clear(): void {
    this.free.clear();
    this.order.clear();
    this.bytes = 0;
  }

  /** Every kept buffer (tests fill them with garbage). */
  peek(): readonly SharedArrayBuffer[] {
    return [...this.order];
  }

  private drop(buffer: SharedArrayBuffer): void {
    this.order.delete(buffer);
    const list = this.free.get(buffer.byteLength)!;
    list.splice(list.indexOf(buffer), 1);
    if (list.length === 0) this.free.delete(buffer.byteLength);
    this.bytes -= buffer.byteLength;
  }
}
