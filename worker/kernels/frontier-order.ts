/**
 * Puts a large frontier in memory order before it is expanded: a one-pass counting sort of its
 * cells by block (cell >>> shift). Frontier cells come out of a BFS layer in an order unrelated
 * to where they lie, so on lattices too big for the cache every neighbour check misses it;
 * expanded block by block, neighbouring checks share cache lines. Cells within a block keep
 * their order (the sort is stable), which is all locality needs.
 */

/** Frontiers smaller than this are left as they are: they fit in cache anyway. */
export const ORDER_MIN_CELLS = 8192;

/** Most buckets of one pass (a 256 KiB count table). */
const MAX_BUCKETS = 1 << 16;

export class FrontierOrder {
  private scratch: Uint32Array = new Uint32Array(0);
  private counts = new Uint32Array(0);

  /** @param cells - cells of the slab the frontiers index into (local indices are below it) */
  constructor(private readonly cells: number) {}

  /** Largest private bytes held. */
  get bytes(): number {
    return this.scratch.byteLength + this.counts.byteLength;
  }

  /**
   * Sorts `data[0, size)` by block and returns the array that now holds them in order: `data`
   * itself, or a scratch array (the caller keeps it and hands `data` back as the next scratch).
   */
  order(data: Uint32Array, size: number): Uint32Array {
    if (size < ORDER_MIN_CELLS) return data;
    let buckets = MAX_BUCKETS;
    while (buckets > 1024 && buckets >= 2 * size) buckets >>>= 1;
    let shift = 0;
    while (this.cells / 2 ** shift > buckets) shift++;
    if (this.counts.length < buckets + 1) this.counts = new Uint32Array(buckets + 1);
    const counts = this.counts;
    counts.fill(0, 0, buckets + 1);
    for (let i = 0; i < size; i++) counts[(data[i]! >>> shift) + 1]!++;
    for (let b = 1; b <= buckets; b++) counts[b]! += counts[b - 1]!;
    if (this.scratch.length < data.length) this.scratch = new Uint32Array(data.length);
    const out = this.scratch;
    for (let i = 0; i < size; i++) {
      const cell = data[i]!;
      out[counts[cell >>> shift]!++] = cell;
    }
    this.scratch = data;
    return out;
  }
}
