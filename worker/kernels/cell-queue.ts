/**
 * A growable list of cell indices (unsigned 32-bit) in a thread's private memory: search
 * frontiers and flood-fill queues. Records the largest capacity it reached, so kernels can
 * report what they allocated.
 */
export class CellQueue {
  data: Uint32Array;
  length = 0;
  /** Next index `shift()` returns, for FIFO use. */
  head = 0;
  private peakBytes: number;

  constructor(initialCapacity = 64) {
    this.data = new Uint32Array(initialCapacity);
    this.peakBytes = this.data.byteLength;
  }

  push(cell: number): void {
    if (this.length === this.data.length) this.grow();
    this.data[this.length++] = cell;
  }

  /**
   * Makes room for at least `capacity` cells and returns the (possibly new) array, for loops that
   * write `data` directly: they set `length` before calling it (the cells to keep) and after.
   */
  reserve(capacity: number): Uint32Array {
    while (this.data.length < capacity) this.grow();
    return this.data;
  }

  /** Removes and returns the oldest cell (FIFO). The caller checks `head < length` first. */
  shift(): number {
    return this.data[this.head++]!;
  }

  clear(): void {
    this.length = 0;
    this.head = 0;
  }

  /** Largest number of bytes the queue ever held. */
  get bytes(): number {
    return this.peakBytes;
  }

  private grow(): void {
    // A FIFO that has consumed its front can reuse the space instead of growing.
    if (this.head > this.length >>> 1) {
      this.data.copyWithin(0, this.head, this.length);
      this.length -= this.head;
      this.head = 0;
      return;
    }
    const next = new Uint32Array(Math.max(64, this.data.length * 2));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
    this.peakBytes = Math.max(this.peakBytes, next.byteLength);
  }
}
