/**
 * The clusters a slab's labelling finishes inside the slab (touching neither of its faces):
 * counted, the largest kept and sizes binned by log2 as they finish, so no per-cluster list is kept.
 */

/** Bins of the log2 histogram: sizes reach 2^32. */
export const HISTOGRAM_BINS = 33;

/** floor(log2(size)) for sizes up to 2^32. */
export function log2Bin(size: number): number {
  return size >= 2 ** 32 ? 32 : 31 - Math.clz32(size);
}

export class FinishedClusters {
  count = 0;
  largest = 0;
  /** Clusters per bin: bin k holds sizes in [2^k, 2^(k+1)). */
  readonly histogram = new Float64Array(HISTOGRAM_BINS);

  add(size: number): void {
    this.count++;
    if (size > this.largest) this.largest = size;
    this.histogram[log2Bin(size)]!++;
  }

  /** Adds counts gathered elsewhere (the WebAssembly labelling's), in this class's layout. */
  addCounts(count: number, largest: number, histogram: ArrayLike<number>): void {
    this.count += count;
    if (largest > this.largest) this.largest = largest;
    for (let k = 0; k < HISTOGRAM_BINS; k++) this.histogram[k]! += histogram[k]!;
  }
}
