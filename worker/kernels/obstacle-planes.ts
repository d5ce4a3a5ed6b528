/**
 * Obstacle bit planes: a slab's procedural obstacles materialised into its packed 1-bit array
 * (1 = blocked) a block of whole rows at a time, the first time a kernel needs them, so a cell
 * is hashed once instead of at every neighbour check. The hash runs over a row range word by
 * word (32 consecutive indices, one store). Explicit obstacles are set for the whole slab at
 * once (the list is sorted and bounded), and the job's own cells stay open whatever the rule says.
 */
import { presetExplicitObstacles, presetMapObstacles } from './bit-slab.ts';
import { orBlockedBitsWasm } from './open-mask-wasm.ts';
import type { Slab } from './slabs.ts';
import type { Lattice } from '../../shared/lattice/types.ts';

/** A block holds at least this many cells, so a tiny row does not cost a flag per row. */
const MIN_BLOCK_CELLS = 2048;

/** Rows per block of a slab is `1 << blockShiftOf(rowCells, rows)`. */
export function blockShiftOf(rowCells: number, rows: number): number {
  let shift = 0;
  while ((1 << shift) * rowCells < MIN_BLOCK_CELLS && 1 << shift < rows) shift++;
  return shift;
}

/**
 * The obstacles of one slab, materialised lazily by row block into `bits`. Bits of a block are
 * OR-ed in, so a kernel may keep its own flags in the same array for cells of blocks already
 * materialised (a cell is never flagged before its block is ready).
 */
export class ObstaclePlanes {
  /** Rows per block is `1 << blockShift`. */
  readonly blockShift: number;
  /** Per block, 1 once materialised. Every block is ready when the rule needs no hashing. */
  readonly ready: Uint8Array;
  private readonly rowCells: number;
  private readonly rows: number;
  private readonly lo: number;
  private readonly threshold: number;
  private readonly offset: number;
  private readonly open: readonly number[];

  /**
   * @param bits - the slab's 1-bit array, indexed locally, zeroed
   * @param open - global indices that stay open (a path's ends)
   */
  constructor(
    private readonly bits: Int32Array,
    lattice: Lattice,
    slab: Slab,
    open: readonly number[],
  ) {
    this.rowCells = lattice.strides[0]!;
    this.rows = slab.rows;
    this.lo = slab.lo;
    this.open = open;
    this.blockShift = blockShiftOf(this.rowCells, slab.rows);
    this.ready = new Uint8Array(Math.ceil(slab.rows / (1 << this.blockShift)));
    const { obstacles } = lattice;
    this.threshold = obstacles.kind === 'procedural' ? obstacles.threshold : 0;
    this.offset = obstacles.kind === 'procedural' ? obstacles.offset : 0;
    if (obstacles.kind !== 'procedural') {
      if (obstacles.kind === 'explicit') presetExplicitObstacles(bits, slab, obstacles.blocked, open);
      if (obstacles.kind === 'map') presetMapObstacles(bits, slab, obstacles.bits, open);
      this.ready.fill(1);
    }
  }

  /** Private bytes: the block flags. */
  get bytes(): number {
    return this.ready.byteLength;
  }

  /** Materialises the block holding local row `row` unless it already is. */
  ensureRow(row: number): void {
    const block = row >>> this.blockShift;
    if (this.ready[block] === 0) this.materialise(block);
  }

  /** Materialises every block (for kernels that read every cell). */
  materialiseAll(): void {
    for (let block = 0; block < this.ready.length; block++) if (this.ready[block] === 0) this.materialise(block);
  }

  /** Hashes one block's cells into the plane. */
  materialise(block: number): void {
    const { bits, rowCells, lo, threshold } = this;
    const row0 = block << this.blockShift;
    const row1 = Math.min(this.rows, row0 + (1 << this.blockShift));
    const from = row0 * rowCells;
    const to = row1 * rowCells;
    // Hash input of local cell i is (lo + i + offset) mod 2^32; the rule runs 16 cells at a
    // time in WebAssembly SIMD (a scalar hash here cost a fifth of a search).
    if (threshold >= 2 ** 32) fillBlocked(bits, from, to);
    else if (threshold > 0) orBlockedBitsWasm(bits, from, to, (lo + this.offset) % 2 ** 32, threshold);
    for (const cell of this.open) {
      const local = cell - lo;
      if (local >= from && local < to) bits[local >>> 5]! &= ~(1 << (local & 31));
    }
    this.ready[block] = 1;
  }
}

/** Sets bits [from, to) of `bits`. */
function fillBlocked(bits: Int32Array, from: number, to: number): void {
  for (let cell = from; cell < to && (cell & 31) !== 0; cell++) bits[cell >>> 5]! |= 1 << (cell & 31);
  const whole = Math.ceil(from / 32);
  const end = Math.floor(to / 32);
  if (whole < end) bits.fill(-1, whole, end);
  for (let cell = Math.max(from, 32 * end); cell < to; cell++) bits[cell >>> 5]! |= 1 << (cell & 31);
}
