/**
 * A set of cell indices by open addressing, for searches that touch few cells of a huge lattice
 * (a bit per cell would cost more than the cells they touch).
 */
import { lowbias32 } from '../../shared/lattice/lowbias32.ts';

const EMPTY = -1;

export class CellSet {
  private keys: Float64Array;
  private mask: number;
  size = 0;
  private peakBytes: number;

  constructor(initialCapacity = 32) {
    let capacity = 16;
    while (capacity < initialCapacity * 2) capacity *= 2;
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
    this.peakBytes = this.keys.byteLength;
  }

  has(cell: number): boolean {
    const { keys, mask } = this;
    for (let slot = lowbias32(cell >>> 0) & mask; ; slot = (slot + 1) & mask) {
      const key = keys[slot]!;
      if (key === cell) return true;
      if (key === EMPTY) return false;
    }
  }

  add(cell: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const { keys, mask } = this;
    for (let slot = lowbias32(cell >>> 0) & mask; ; slot = (slot + 1) & mask) {
      const key = keys[slot]!;
      if (key === cell) return;
      if (key === EMPTY) {
        keys[slot] = cell;
        this.size++;
        return;
      }
    }
  }

  /** Largest number of bytes the set ever held. */
  get bytes(): number {
    return this.peakBytes;
  }

  private grow(): void {
    const old = this.keys;
    this.keys = new Float64Array(old.length * 2).fill(EMPTY);
    this.mask = this.keys.length - 1;
    this.size = 0;
    this.peakBytes = Math.max(this.peakBytes, this.keys.byteLength);
    for (const key of old) if (key !== EMPTY) this.add(key);
  }
}
