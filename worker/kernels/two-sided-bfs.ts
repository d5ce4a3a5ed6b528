/**
 * Bidirectional breadth-first search in two threads: one thread grows the start side, the other
 * the end side, at the same time, over one shared WebAssembly memory (wasm/two-sided-bfs.wat).
 * Each cell's state is a nibble (4 bits a cell): bit 0 start side, bit 1 end side (both: blocked),
 * bits 2-3 the layer code 1 + layer mod 3. A side claims a cell with one compare-exchange of its
 * 64-bit word, so no cell is claimed twice and neither side loses the other's writes.
 *
 * The sides never wait for each other while they search. The meeting rule:
 * - a side that expands a cell with a neighbour of the other side records the cell and raises
 *   STOP; each side checks STOP before each of its layers, so it stops at a layer boundary, at
 *   most one layer after the first meeting;
 * - every pair (u, v) of adjacent cells of the two sides with u or v expanded was recorded, by
 *   the side that expanded it (when it looked, the other cell was the other side's already, or
 *   it would have claimed it); and a side that records a meeting stops after that layer, so a
 *   recorded cell is in its side's last expanded layer and its other-side neighbour in the other
 *   side's last two (its last expanded layer or its front), which the layer code mod 3 tells apart;
 * - the answer is the least layer(u) + 1 + layer(v) over the recorded cells' other-side
 *   neighbours. It is the shortest length: with side 0 stopped at front layer A and side 1 at B,
 *   any path of length D ≤ A + B has an edge (p_i, p_i+1) where p_0..p_i are side 0's cells at
 *   layers 0..i, p_i+1..p_D side 1's at layers D-i-1..0 and one of them expanded (the two sides'
 *   stretches along the path cannot both end on the other side's later cells: each of those was
 *   claimed before the other side expanded its neighbour, which orders the two sides' layers both
 *   ways at once), and every recorded pair is ≤ A + B.
 *
 * Plain claims. While the two sides are far apart a side claims with a plain byte store in one
 * pass (wasm `expandPlain`: read the cell's byte, store it back with the nibble set only when
 * free, to a scratch byte otherwise), no compare-exchange: a byte (two cells) one side reads or
 * writes is then a byte the other side does not touch at all, so the claim is as good as atomic.
 * - 2-D open lattices: tiles of 2^6 × 2^6 cells. A side marks a tile (atomic OR) before it
 *   expands a cell in it, then looks for the other side's marks within two tiles (a cell's
 *   bytes and its neighbours' lie in its tile or the next; the last side is even, so a byte
 *   never spans two rows). Of two sides marking near tiles, one sees the other's mark (each
 *   marks before it looks, both sequentially consistent).
 * - Other lattices (even last side): the step bound. A side in layer a touches bytes with a cell
 *   within a + 1 steps of its seed; at each chunk it reads the other's layer b (published before
 *   its own read, so of two sides one sees the other's current layer) and stops plain claims once
 *   a + b + PLAIN_MARGIN ≥ the seeds' step distance.
 * - An odd last side: compare-exchange from the start.
 * A side that stops plain claims says so (ACK) and waits until the other has said so too or has
 * stopped searching (at most one chunk of the other: it looks at each chunk's start); from then
 * on both claim by compare-exchange, and every plain store happened before (the flags are atomic).
 * The property test checks both rules on the bytes each side touches.
 * docs/architecture.md › Inside `shortest_path` and docs/performance.md › "shortest_path in two threads".
 */
import type { Lattice } from '../../shared/lattice/types.ts';
import { coordsOf, neighboursOf, stepLowerBound } from '../../shared/lattice/geometry.ts';
import type { BfsOutcome } from './bidirectional-bfs.ts';
import { divisionMagic } from './division-magic.ts';
import type { JobControl } from './job-control.ts';
import { ObstaclePlanes } from './obstacle-planes.ts';
import { orBlockedBitsWasm } from './open-mask-wasm.ts';
import { joinHalves } from './path-result.ts';
import { WASM_PAGE, compileWasm, instantiate, sharedWasmMemory, type SharedWasmMemory } from './wasm-runtime.ts';

interface TwoSidedExports {
  expand(
    front: number,
    from: number,
    count: number,
    out: number,
    n: number,
    rowCells: number,
    lastRow: number,
    wrapRowStep: number,
    nowhere: number,
    res: number,
    inner: number,
    side: number,
    state: number,
  ): number;
  claim(out: number, n: number, contested: number, res: number, side: number, val: bigint, state: number): number;
  expandPlain(
    front: number, from: number, count: number, out: number, n: number, rowCells: number, lastRow: number, wrapRowStep: number,
    nowhere: number, res: number, inner: number, side: number, state: number, val: number, sink: number,
    tiles: number, tileRowShift: number, tileColShift: number, tilesPerRow: number,
  ): number;
}

let compiled: object | null = null;

function twoSidedModule(): object {
  compiled ??= compileWasm(new URL('./wasm/two-sided-bfs.wasm', import.meta.url));
  return compiled;
}

/** Frontier cells expanded per call (a cancel check between calls). */
export const TWO_SIDED_CHUNK = 4096;

/**
 * Lattices from this many cells take the two-thread search when a run may have two threads
 * (`threads: 'auto'`); below, the one-thread search (flat-bfs.ts) is as fast or faster.
 */
export const TWO_SIDED_MIN_CELLS = 2 ** 23;

/** Int32 slots of the sync block at address 0. */
const STOP = 0;
const DONE = 1; // + side
const LAYERS = 3; // + side
const FINAL = 5; // + side
const BEST = 8; // + 4 side: sum (-1 none), u, v, visited
const ACK = 16; // + side: 1 once the side claims by compare-exchange only (see Plain claims above)
const SYNC_BYTES = 128;

/** Per thread region: results (0..8), row magic (16), shift (24), axes from 32 (as flat-bfs-wasm.ts). */
const HEADER = 32 + 64 * 24;
const MAX_PAGES = 32768;
/** Cells are int32 indices and one blocked cell past the last. */
const MAX_CELLS = 2 ** 31 - 2;

const align = (bytes: number, to: number): number => Math.ceil(bytes / to) * to;

/**
 * Plain claims stop once layer + other layer + this reach the seeds' step distance: a side in
 * layer a reads and writes bytes with a cell within a + 1 steps of its seed, and a byte's two
 * cells are one step apart (the last side is even).
 */
const PLAIN_MARGIN = 4;

/** Tiles of 2^6 × 2^6 cells on 2-D lattices (see Plain claims). */
export const TWO_SIDED_TILE_SHIFT = 6;

/** Log2 of a tile's side; null: no plain claims, compare-exchange only (tests and A/B benches). */
export type TileShift = number | null;

type LatticeSize = Pick<Lattice, 'cells' | 'dimensions' | 'shape' | 'strides' | 'boundary'>;

/**
 * How a lattice's sides tell when they may claim with plain stores (see Plain claims): by tiles
 * (2-D, open), by the step bound (other lattices), or never (an odd last side: a byte's two
 * cells may lie far apart). `bound` and `none` use one tile, every cell's.
 */
interface PlainPlan {
  kind: 'tiles' | 'bound' | 'none';
  rowShift: number;
  colShift: number;
  perRow: number;
  tileRows: number;
}

function plainPlanOf(lattice: LatticeSize, tileShift: TileShift): PlainPlan {
  const one = { rowShift: 31, colShift: 31, perRow: 1, tileRows: 1 };
  if (tileShift === null || lattice.shape[lattice.dimensions - 1]! % 2 === 1) return { kind: 'none', ...one };
  if (lattice.dimensions !== 2 || lattice.boundary === 'periodic') return { kind: 'bound', ...one };
  const shift = Math.max(1, tileShift);
  const perRow = Math.ceil(lattice.strides[0]! / 2 ** shift);
  return { kind: 'tiles', rowShift: shift, colShift: shift, perRow, tileRows: Math.ceil(lattice.shape[0]! / 2 ** shift) };
}

interface Layout {
  regions: [number, number];
  fronts: [number, number];
  outs: [number, number];
  contested: [number, number];
  plain: PlainPlan;
  tiles: number;
  state: number;
  total: number;
}

function layoutOf(lattice: LatticeSize, chunk: number, tileShift: TileShift): Layout {
  const listBytes = 4 * chunk * 2 * lattice.dimensions;
  const regionBytes = align(HEADER, 16) + 4 * chunk + 2 * listBytes;
  const r0 = SYNC_BYTES;
  const r1 = r0 + regionBytes;
  const plain = plainPlanOf(lattice, tileShift);
  const tiles = align(r1 + regionBytes, 16);
  const state = align(tiles + plain.perRow * plain.tileRows, 16);
  const total = state + 8 * Math.ceil((lattice.cells + 1) / 16);
  const front = (r: number): number => r + align(HEADER, 16);
  const out = (r: number): number => front(r) + 4 * chunk;
  return { regions: [r0, r1], fronts: [front(r0), front(r1)], outs: [out(r0), out(r1)], contested: [out(r0) + listBytes, out(r1) + listBytes], plain, tiles, state, total };
}

/** Bytes of the shared memory for a lattice (whole pages), or null when it does not fit one. */
export function twoSidedBytes(lattice: LatticeSize, chunk = TWO_SIDED_CHUNK, tileShift: TileShift = TWO_SIDED_TILE_SHIFT): number | null {
  if (lattice.dimensions > 65 || lattice.cells > MAX_CELLS) return null;
  const pages = Math.ceil(layoutOf(lattice, chunk, tileShift).total / WASM_PAGE);
  return pages > MAX_PAGES ? null : pages * WASM_PAGE;
}

/** Whether the two-thread search takes a lattice. */
export function twoSidedFits(lattice: LatticeSize): boolean {
  return twoSidedBytes(lattice) !== null;
}

/**
 * The shared memory of one search: `kept` (a memory of an earlier search, its sync block and
 * tile marks zeroed here) when large enough, else a fresh one. The state needs no zeroing:
 * materialising the obstacles writes every cell's nibble.
 */
export function twoSidedMemory(
  lattice: LatticeSize,
  chunk = TWO_SIDED_CHUNK,
  kept: SharedWasmMemory | null = null,
  tileShift: TileShift = TWO_SIDED_TILE_SHIFT,
): SharedWasmMemory {
  const bytes = twoSidedBytes(lattice, chunk, tileShift);
  if (bytes === null) throw new RangeError(`a lattice of ${lattice.cells} cells does not fit the two-thread search`);
  if (kept !== null && kept.buffer.byteLength >= bytes) {
    const layout = layoutOf(lattice, chunk, tileShift);
    new Uint8Array(kept.buffer, 0, SYNC_BYTES).fill(0);
    new Uint8Array(kept.buffer, layout.tiles, layout.state - layout.tiles).fill(0);
    return kept;
  }
  return sharedWasmMemory(bytes / WASM_PAGE);
}

/** Largest shared memory the pool keeps between two-thread searches (fresh pages cost ~3 ms of CPU per MiB). */
export const KEPT_TWO_SIDED_BYTES = 2 ** 26;

/** Rows per obstacle chunk: about 2^16 cells, at least one row. */
function rowsPerChunk(lattice: Lattice): number {
  return Math.max(1, Math.floor(2 ** 16 / lattice.strides[0]!));
}

/** Nibbles of 8 blocked cells (3 per set bit) by the byte of their bits. */
const SPREAD = (() => {
  const table = new Int32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let nibbles = 0;
    for (let bit = 0; bit < 8; bit++) if ((byte >>> bit) & 1) nibbles |= 3 << (4 * bit);
    table[byte] = nibbles;
  }
  return table;
})();

/** A growable list of cells. */
class CellList {
  data = new Int32Array(1024);
  length = 0;

  reserve(extra: number): Int32Array {
    if (this.length + extra > this.data.length) {
      let size = this.data.length * 2;
      while (this.length + extra > size) size *= 2;
      const next = new Int32Array(size);
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    return this.data;
  }
}

/** The best meeting a side recorded: length, its cell and the other side's neighbour. */
export interface Meeting {
  sum: number;
  u: number;
  v: number;
}

/** One side of the search in one thread; `step` expands a chunk. */
export class SearchSide {
  readonly sync: Int32Array;
  /** The state as 32-bit words: cell c is nibble c & 7 of word c >> 3. */
  readonly words: Int32Array;
  private readonly exports: TwoSidedExports;
  private readonly layout: Layout;
  private readonly front: Int32Array;
  private readonly out: Int32Array;
  private readonly results: Int32Array;
  private readonly contested: Int32Array;
  private fronts = new CellList();
  private next = new CellList();
  /** Frontier cells (of the layer being expanded) that had a neighbour of the other side. */
  readonly meetings: number[] = [];
  layers = 0;
  visited = 1;
  private from = 0;
  private grown = 0;
  finished = false;
  private readonly val: bigint;
  private readonly nowhere: number;
  private readonly wrapRowStep: number;
  /** Per tile, bit s once side s may write near it (see Plain claims). */
  private readonly tiles: Uint8Array;
  /** Plain claims, waiting for the other side to stop claiming plainly, or compare-exchange only. */
  mode: 'plain' | 'switching' | 'exchange';
  /** Steps between the two seeds at least (`bound` plans). */
  private readonly distance: number;
  /** Tests: each chunk's expanded cells, whether claimed plainly, whether the other side had stopped plain claims. */
  onChunk: ((cells: Int32Array, plain: boolean, otherExchanges: boolean) => void) | null = null;

  constructor(
    private readonly memory: SharedWasmMemory,
    private readonly lattice: Lattice,
    private readonly start: number,
    private readonly end: number,
    readonly side: 0 | 1,
    private readonly chunk = TWO_SIDED_CHUNK,
    tileShift: TileShift = TWO_SIDED_TILE_SHIFT,
  ) {
    this.layout = layoutOf(lattice, chunk, tileShift);
    this.exports = instantiate<TwoSidedExports>(twoSidedModule(), { env: { memory } });
    const { buffer } = memory;
    this.sync = new Int32Array(buffer, 0, SYNC_BYTES / 4);
    this.words = new Int32Array(buffer, this.layout.state, Math.ceil((lattice.cells + 1) / 8));
    const region = this.layout.regions[side];
    this.results = new Int32Array(buffer, region, 3);
    this.contested = new Int32Array(buffer, this.layout.contested[side], chunk * 2 * lattice.dimensions);
    this.front = new Int32Array(buffer, this.layout.fronts[side], chunk);
    this.out = new Int32Array(buffer, this.layout.outs[side], chunk * 2 * lattice.dimensions);
    this.writeDivisors(buffer, region);
    // Layer 0 (code 1): the seed.
    this.val = BigInt((1 << side) | (1 << 2));
    this.nowhere = lattice.cells;
    const rows = lattice.shape[0]!;
    const periodic = lattice.boundary === 'periodic';
    this.wrapRowStep = periodic && rows > 2 ? (rows - 1) * lattice.strides[0]! : 0;
    this.fronts.data[0] = side === 0 ? start : end;
    this.fronts.length = 1;
    const plan = this.layout.plain;
    this.tiles = new Uint8Array(buffer, this.layout.tiles, plan.perRow * plan.tileRows);
    this.distance = stepLowerBound(lattice, coordsOf(lattice, start), coordsOf(lattice, end));
    if (plan.kind === 'none') {
      this.mode = 'exchange';
      Atomics.store(this.sync, ACK + side, 1);
    } else {
      this.mode = 'plain';
      // One tile, marked: the step bound alone ends plain claims.
      if (plan.kind === 'bound') Atomics.or(this.tiles, 0, 1 << side);
    }
  }

  private writeDivisors(buffer: SharedArrayBuffer, region: number): void {
    const { lattice } = this;
    const view = new DataView(buffer);
    const row = divisionMagic(lattice.strides[0]!);
    view.setBigUint64(region + 16, row.magic, true);
    view.setInt32(region + 24, row.shift, true);
    const periodic = lattice.boundary === 'periodic';
    for (let a = 1; a < lattice.dimensions; a++) {
      const at = region + 32 + (a - 1) * 24;
      const side = lattice.shape[a]!;
      const stride = lattice.strides[a]!;
      const period = lattice.strides[a - 1]!;
      const magic = divisionMagic(period);
      view.setInt32(at, stride, true);
      view.setInt32(at + 4, period, true);
      view.setInt32(at + 8, periodic && side > 2 ? (side - 1) * stride : 0, true);
      view.setInt32(at + 12, magic.shift, true);
      view.setBigUint64(at + 16, magic.magic, true);
    }
  }

  /** Private bytes: the two frontier lists at their largest. */
  get bytes(): number {
    return this.fronts.data.byteLength + this.next.data.byteLength;
  }

  /**
   * Writes the blocked cells of half `part` of the rows (0 the first half) as nibbles. The two
   * halves may run at once in the two threads: words holding cells of both halves are OR-ed atomically.
   */
  materialise(part: 0 | 1, checkpoint: () => void = () => undefined): void {
    if (this.lattice.obstacles.kind === 'procedural') this.materialiseProcedural(part, checkpoint);
    else this.materialiseRows(part, checkpoint);
  }

  /**
   * Procedural obstacles, hashed 2^16 cells at a time (open-mask.wat) into a scratch bit plane
   * and spread to nibbles. Chunks start at multiples of 32 cells, so no state word holds cells of
   * two chunks and every word is stored whole.
   */
  private materialiseProcedural(part: 0 | 1, checkpoint: () => void): void {
    const { lattice, words } = this;
    const obstacles = lattice.obstacles as Extract<Lattice['obstacles'], { kind: 'procedural' }>;
    const per = 2 ** 16;
    const chunks = Math.ceil(lattice.cells / per);
    const mid = Math.ceil(chunks / 2);
    const scratch = new Int32Array(per / 32);
    for (let c = part === 0 ? 0 : mid; c < (part === 0 ? mid : chunks); c++) {
      checkpoint();
      const lo = c * per;
      const cells = Math.min(per, lattice.cells - lo);
      scratch.fill(0);
      if (obstacles.threshold >= 2 ** 32) scratch.fill(-1);
      else if (obstacles.threshold > 0) orBlockedBitsWasm(scratch, 0, cells, (lo + obstacles.offset) % 2 ** 32, obstacles.threshold);
      if (cells < per) scratch.fill(0, Math.ceil(cells / 32));
      if ((cells & 31) !== 0) scratch[cells >>> 5]! &= (1 << (cells & 31)) - 1;
      for (const open of [this.start, this.end]) {
        if (open >= lo && open < lo + cells) scratch[(open - lo) >>> 5]! &= ~(1 << ((open - lo) & 31));
      }
      const base = lo >>> 3;
      const last = Math.ceil(cells / 32);
      for (let k = 0; k < last; k++) {
        const x = scratch[k]!;
        const w = base + 4 * k;
        words[w] = SPREAD[x & 255]!;
        words[w + 1] = SPREAD[(x >>> 8) & 255]!;
        words[w + 2] = SPREAD[(x >>> 16) & 255]!;
        words[w + 3] = SPREAD[x >>> 24]!;
      }
    }
  }

  /** Other obstacles, by blocks of rows (obstacle-planes.ts); words holding cells of two blocks are OR-ed atomically. */
  private materialiseRows(part: 0 | 1, checkpoint: () => void): void {
    const { lattice, words } = this;
    const rowCells = lattice.strides[0]!;
    const rows = lattice.shape[0]!;
    const per = rowsPerChunk(lattice);
    const chunks = Math.ceil(rows / per);
    const mid = Math.ceil(chunks / 2);
    const scratch = new Int32Array(Math.ceil((per * rowCells) / 32) + 1);
    for (let c = part === 0 ? 0 : mid; c < (part === 0 ? mid : chunks); c++) {
      checkpoint();
      const row0 = c * per;
      const row1 = Math.min(rows, row0 + per);
      const lo = row0 * rowCells;
      const cells = (row1 - row0) * rowCells;
      scratch.fill(0);
      const planes = new ObstaclePlanes(scratch, lattice, { index: c, row0, row1, rows: row1 - row0, lo, cells }, [this.start, this.end]);
      planes.materialiseAll();
      spreadBlocked(scratch, cells, lo, words);
    }
  }

  /** Claims both seeds and blocks the cell past the last (before either side searches). */
  seedBoth(): void {
    const { words } = this;
    const set = (cell: number, nibble: number): void => void Atomics.or(words, cell >>> 3, nibble << (4 * (cell & 7)));
    set(this.start, 1 | (1 << 2));
    set(this.end, 2 | (1 << 2));
    set(this.nowhere, 3);
  }

  /** The nibble of a cell. */
  nibble(cell: number): number {
    return (Atomics.load(this.words, cell >>> 3) >>> (4 * (cell & 7))) & 15;
  }

  /** Expands one chunk of the current layer; true once this side has stopped. */
  step(): boolean {
    if (this.finished) return true;
    const { sync, side } = this;
    const front = this.fronts;
    if (this.from === 0) {
      if (Atomics.load(sync, STOP) !== 0) return this.stop();
      if (front.length === 0) {
        Atomics.store(sync, STOP, 1);
        return this.stop();
      }
      this.grown = 0;
      this.next.length = 0;
    }
    if (this.mode !== 'exchange' && !this.mayClaim()) return false;
    const count = Math.min(this.chunk, front.length - this.from);
    this.front.set(front.data.subarray(this.from, this.from + count));
    const code = ((this.layers + 1) % 3) + 1;
    const plain = this.mode === 'plain';
    const done = plain ? this.expandPlain(count, (1 << side) | (code << 2)) : this.expandListed(count, BigInt((1 << side) | (code << 2)));
    const written = this.results[1]!;
    if (this.onChunk !== null) {
      const other = 1 - side;
      const quiet = Atomics.load(sync, ACK + other) !== 0 || Atomics.load(sync, DONE + other) !== 0;
      this.onChunk(this.front.slice(0, done), plain, quiet);
    }
    const next = this.next;
    next.reserve(written).set(this.out.subarray(0, written), next.length);
    next.length += written;
    this.grown += written;
    this.from += done;
    if (this.from >= front.length) {
      this.from = 0;
      this.fronts = next;
      this.next = front;
      this.layers++;
      this.visited += this.grown;
      Atomics.store(sync, LAYERS + side, this.layers);
    }
    return false;
  }

  /** Frontier cells [0, count) of the chunk, claimed with plain stores; the cells expanded (fewer when a tile stops plain claims). */
  private expandPlain(count: number, nibble: number): number {
    const { lattice, layout, side, sync } = this;
    const plan = layout.plain;
    const region = layout.regions[side];
    let at = 0;
    let written = 0;
    for (;;) {
      const status = this.exports.expandPlain(
        layout.fronts[side],
        at,
        count,
        layout.outs[side],
        written,
        lattice.strides[0]!,
        lattice.shape[0]! - 1,
        this.wrapRowStep,
        this.nowhere,
        region,
        lattice.dimensions - 1,
        side,
        layout.state,
        nibble,
        region + 12,
        layout.tiles,
        plan.rowShift,
        plan.colShift,
        plan.perRow,
      );
      written = this.results[1]!;
      if (status === 0) return count;
      at = this.results[0]!;
      if (status === 1) {
        this.meetings.push(this.front[at]!);
        Atomics.store(sync, STOP, 1);
        at++;
      } else if (!this.markTile(this.results[2]!)) {
        this.beginExchanges();
        return at;
      }
    }
  }

  /** Frontier cells [0, count) of the chunk, listed then claimed by compare-exchange; returns count. */
  private expandListed(count: number, val: bigint): number {
    const { lattice, layout, side, sync } = this;
    let at = 0;
    let written = 0;
    for (;;) {
      const status = this.exports.expand(
        layout.fronts[side],
        at,
        count,
        layout.outs[side],
        written,
        lattice.strides[0]!,
        lattice.shape[0]! - 1,
        this.wrapRowStep,
        this.nowhere,
        layout.regions[side],
        lattice.dimensions - 1,
        side,
        layout.state,
      );
      written = this.results[1]!;
      if (status === 0) break;
      at = this.results[0]!;
      this.meetings.push(this.front[at]!);
      Atomics.store(sync, STOP, 1);
      at++;
    }
    // The listed cells claimed in a second pass: the first stays branch-free, and only fresh
    // cells pay for a compare-exchange. A cell the other side claimed in between is a meeting
    // too, recorded as this side's frontier cell next to it.
    this.results[1] = this.exports.claim(layout.outs[side], written, layout.contested[side], layout.regions[side], side, val, layout.state);
    const contested = this.results[2]!;
    if (contested > 0) {
      const ours = (1 << side) | (((this.layers % 3) + 1) << 2);
      for (let k = 0; k < contested; k++) {
        const u = neighboursOf(lattice, this.contested[k]!).find((nb) => this.nibble(nb) === ours)!;
        this.meetings.push(u);
      }
      Atomics.store(sync, STOP, 1);
    }
    return count;
  }

  /**
   * Marks a tile as this side's, then looks for the other side's marks within two tiles (where
   * the two sides' writes could share a byte); false when one is there.
   */
  private markTile(tile: number): boolean {
    const { tiles, side } = this;
    const { perRow, tileRows } = this.layout.plain;
    Atomics.or(tiles, tile, 1 << side);
    const row = Math.floor(tile / perRow);
    const col = tile - row * perRow;
    const theirs = 1 << (1 - side);
    for (let r = Math.max(0, row - 2); r <= Math.min(tileRows - 1, row + 2); r++) {
      for (let c = Math.max(0, col - 2); c <= Math.min(perRow - 1, col + 2); c++) {
        if ((Atomics.load(tiles, r * perRow + c) & theirs) !== 0) return false;
      }
    }
    return true;
  }

  /** Stops plain claims for good, and says so to the other side. */
  private beginExchanges(): void {
    this.mode = 'switching';
    Atomics.store(this.sync, ACK + this.side, 1);
    Atomics.notify(this.sync, ACK + this.side);
  }

  /**
   * At a chunk's start: whether this side may claim now. It stops plain claims once the other
   * side has, or (`bound` plans) once the two layers could bring their writes within a byte; it
   * then waits (false) until the other side has stopped them too, or has stopped searching.
   */
  private mayClaim(): boolean {
    const { sync, side } = this;
    const other = 1 - side;
    if (this.mode === 'plain') {
      // This side's layer was published before the other's is read here (see Plain claims).
      const near = this.layout.plain.kind === 'bound' && this.layers + Atomics.load(sync, LAYERS + other) + PLAIN_MARGIN >= this.distance;
      if (near || Atomics.load(sync, ACK + other) !== 0) this.beginExchanges();
      else return true;
    }
    if (Atomics.load(sync, ACK + other) === 0 && Atomics.load(sync, DONE + other) === 0) return false;
    this.mode = 'exchange';
    return true;
  }

  /** Whether the side waits for the other to stop plain claims. */
  get waiting(): boolean {
    return this.mode === 'switching';
  }

  /** Polls, then sleeps a millisecond at a time, until the other side has stopped plain claims or searching. */
  awaitOther(checkpoint: () => void): void {
    const { sync } = this;
    const other = 1 - this.side;
    for (let polled = 0; Atomics.load(sync, ACK + other) === 0 && Atomics.load(sync, DONE + other) === 0; polled++) {
      if (polled < 4000) continue;
      checkpoint();
      Atomics.wait(sync, ACK + other, 0, 1);
    }
  }

  private stop(): true {
    this.finished = true;
    Atomics.store(this.sync, LAYERS + this.side, this.layers);
    Atomics.store(this.sync, DONE + this.side, 1);
    Atomics.notify(this.sync, DONE + this.side);
    return true;
  }

  /** This side's best recorded meeting, once both sides have stopped (`otherLayers`: the other side's front layer). */
  best(otherLayers: number): Meeting | null {
    const other = 1 - this.side;
    let best: Meeting | null = null;
    for (const u of this.meetings) {
      for (const v of neighboursOf(this.lattice, u)) {
        const nibble = this.nibble(v);
        if (((nibble >>> other) & 1) === 0 || ((nibble >>> this.side) & 1) !== 0) continue;
        const code = nibble >>> 2;
        // The other side's front layer, or the layer before it (its last expanded one).
        const b = (otherLayers % 3) + 1 === code ? otherLayers : otherLayers - 1;
        if (b < 0 || (b % 3) + 1 !== code) throw new Error(`meeting cell ${v} has layer code ${code}, not one of the other side's last two layers`);
        const sum = this.layers + b;
        if (best === null || sum < best.sum) best = { sum, u, v };
      }
    }
    return best;
  }

  /** The cells from `cell` back to side `side`'s seed, `cell` first. */
  walkToSeed(cell: number, side: number): number[] {
    const seed = side === 0 ? this.start : this.end;
    const out = [cell];
    let current = cell;
    let code = this.nibble(cell) >>> 2;
    while (current !== seed) {
      const want = code === 1 ? 3 : code - 1;
      const nibble = (1 << side) | (want << 2);
      const found = neighboursOf(this.lattice, current).find((nb) => this.nibble(nb) === nibble);
      if (found === undefined) throw new Error(`path walk-back lost its way at cell ${current}`);
      out.push(found);
      current = found;
      code = want;
    }
    return out;
  }
}

/** ORs the nibbles of `cells` blocked bits (`bits`, local) into the state from global cell `lo`. */
function spreadBlocked(bits: Int32Array, cells: number, lo: number, words: Int32Array): void {
  const hi = lo + cells;
  const firstWord = lo >>> 3;
  const lastWord = (hi - 1) >>> 3;
  for (let w = firstWord; w <= lastWord; w++) {
    // Cells 8w .. 8w+7, local 8w - lo ..; their bits may straddle two words of `bits`.
    const local = 8 * w - lo;
    let byte: number;
    if (local >= 0) {
      byte = (bits[local >>> 5]! >>> (local & 31)) & 255;
      if ((local & 31) > 24) byte |= (bits[(local >>> 5) + 1]! << (32 - (local & 31))) & 255;
    } else {
      byte = (bits[0]! << -local) & 255;
    }
    // Cells outside [lo, hi) in an edge word are not this range's: only its own nibbles are
    // cleared (what a kept memory's last search left) and set, atomically.
    if (w === firstWord || w === lastWord) {
      let own = -1;
      if (local < 0) own &= -1 << (4 * -local);
      if (hi - 8 * w < 8) own &= (2 ** (4 * (hi - 8 * w)) - 1) | 0;
      Atomics.and(words, w, ~own);
      Atomics.or(words, w, SPREAD[byte]! & own);
    } else {
      words[w] = SPREAD[byte]!;
    }
  }
}

/** A meeting pair, walked back to both seeds: the path start to end. */
function pathThrough(side: SearchSide, meeting: Meeting, meetingSide: number): Uint32Array {
  const uHalf = side.walkToSeed(meeting.u, meetingSide);
  const vHalf = side.walkToSeed(meeting.v, 1 - meetingSide);
  const startHalf = meetingSide === 0 ? uHalf : vHalf;
  const endHalf = meetingSide === 0 ? vHalf : uHalf;
  return joinHalves(startHalf, endHalf);
}

/** The answer from both sides' best meetings and visited counts. */
function answer(side: SearchSide, meetings: [Meeting | null, Meeting | null], visited: number): BfsOutcome {
  const [m0, m1] = meetings;
  const pick = m0 !== null && (m1 === null || m0.sum <= m1.sum) ? 0 : m1 !== null ? 1 : -1;
  if (pick < 0) return { reachable: false, path: new Uint32Array(0), length: null, visited };
  const path = pathThrough(side, pick === 0 ? m0! : m1!, pick);
  return { reachable: true, path, length: path.length - 1, visited };
}

/** What a thread's task carries. */
export interface TwoSidedTaskInput {
  lattice: Lattice;
  start: number;
  end: number;
  side: 0 | 1;
  memory: SharedWasmMemory;
  /** As the memory was made with (twoSidedMemory); the default when absent. */
  tileShift?: TileShift;
}

/** Waits until `sync[slot]` is non-zero: polls first (the other side is often moments away), then sleeps. */
function waitFor(sync: Int32Array, slot: number, control: JobControl): void {
  let polled = 0;
  while (Atomics.load(sync, slot) === 0) {
    if (polled++ < 4000) continue;
    control.checkpoint();
    Atomics.wait(sync, slot, 0, 20);
  }
}

/** Where a side's thread is (benches time the phases: bench/lattice/two-sided-direct.ts). */
export type TwoSidedPhase = 'materialised' | 'seeded' | 'searched' | 'waited' | 'met' | 'answered';

/**
 * One side's thread. Side 0 returns the outcome; side 1 returns null (its best meeting and
 * visited count go to side 0 through the sync block).
 */
export function twoSidedBfsThread(
  task: TwoSidedTaskInput,
  control: JobControl,
  mark: (phase: TwoSidedPhase) => void = () => undefined,
): { outcome: BfsOutcome | null; bytes: number; build_ms: number } {
  const buildStarted = performance.now();
  const { lattice, start, end, side: s, memory } = task;
  const side = new SearchSide(memory, lattice, start, end, s, TWO_SIDED_CHUNK, task.tileShift === undefined ? TWO_SIDED_TILE_SHIFT : task.tileShift);
  side.materialise(s, () => control.checkpoint());
  mark('materialised');
  control.barrier();
  if (s === 0) side.seedBoth();
  control.barrier();
  mark('seeded');
  const build_ms = performance.now() - buildStarted;
  const bound = Math.max(1, stepLowerBound(lattice, coordsOf(lattice, start), coordsOf(lattice, end)));
  const { sync } = side;
  let chunks = 0;
  while (!side.step()) {
    control.checkpoint();
    if (side.waiting) side.awaitOther(() => control.checkpoint());
    if (s === 0 && (chunks++ & 15) === 0) {
      const layers = side.layers + Atomics.load(sync, LAYERS + 1);
      control.publishProgress(0.99 * Math.min(1, Math.max(layers / bound, (2 * side.visited) / lattice.cells)));
    }
  }
  mark('searched');
  const other = 1 - s;
  waitFor(sync, DONE + other, control);
  mark('waited');
  const best = side.best(Atomics.load(sync, LAYERS + other));
  sync[BEST + 4 * s] = best?.sum ?? -1;
  sync[BEST + 4 * s + 1] = best?.u ?? 0;
  sync[BEST + 4 * s + 2] = best?.v ?? 0;
  sync[BEST + 4 * s + 3] = side.visited;
  Atomics.store(sync, FINAL + s, 1);
  Atomics.notify(sync, FINAL + s);
  mark('met');
  if (s === 1) return { outcome: null, bytes: side.bytes, build_ms };
  waitFor(sync, FINAL + 1, control);
  const theirs = sync[BEST + 4] === -1 ? null : { sum: sync[BEST + 4]!, u: sync[BEST + 5]!, v: sync[BEST + 6]! };
  const outcome = answer(side, [best, theirs], side.visited + sync[BEST + 7]!);
  mark('answered');
  return { outcome, bytes: side.bytes, build_ms };
}

/**
 * Both sides in the calling thread, a chunk at a time in the order `pick` chooses (0 or 1 for
 * the side to step next; a stopped side is skipped): tests drive the meeting rule through
 * interleavings two threads could produce, with `chunk` as small as one cell.
 */
export function twoSidedBfsInterleaved(
  lattice: Lattice,
  start: number,
  end: number,
  pick: () => 0 | 1,
  chunk = TWO_SIDED_CHUNK,
  tileShift: TileShift = TWO_SIDED_TILE_SHIFT,
  onChunk: ((side: 0 | 1, cells: Int32Array, plain: boolean, otherExchanges: boolean) => void) | null = null,
): BfsOutcome {
  if (start === end) return { reachable: true, path: [start], length: 0, visited: 1 };
  const memory = twoSidedMemory(lattice, chunk, null, tileShift);
  const sides = [new SearchSide(memory, lattice, start, end, 0, chunk, tileShift), new SearchSide(memory, lattice, start, end, 1, chunk, tileShift)] as const;
  if (onChunk !== null) for (const side of sides) side.onChunk = (cells, plain, quiet) => onChunk(side.side, cells, plain, quiet);
  sides[1].materialise(1);
  sides[0].materialise(0);
  sides[0].seedBoth();
  while (!sides[0].finished || !sides[1].finished) {
    const s = pick();
    (sides[s].finished ? sides[1 - s]! : sides[s]).step();
  }
  const meetings: [Meeting | null, Meeting | null] = [sides[0].best(sides[1].layers), sides[1].best(sides[0].layers)];
  return answer(sides[0], meetings, sides[0].visited + sides[1].visited);
}
