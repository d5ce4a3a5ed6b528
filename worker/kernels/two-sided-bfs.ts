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
import { isProcedurallyBlocked } from '../../shared/lattice/lowbias32.ts';
import type { BfsOutcome } from './bidirectional-bfs.ts';
import { divisionMagic } from './division-magic.ts';
import type { JobControl } from './job-control.ts';
import { ObstaclePlanes } from './obstacle-planes.ts';
import { DONE, LAYERS, SPREAD, TwoSidedSide, align, interleaveSides, pieceOf, runTwoSidedThread, type SidesLayout, type TwoSidedPhase, type TwoSidedThreadResult } from './two-sided-search.ts';
import { WASM_PAGE, compileWasm, instantiate, sharedWasmMemory, type SharedWasmMemory } from './wasm-runtime.ts';

export type { Meeting, TwoSidedPhase } from './two-sided-search.ts';

/** The arguments `expand` and `expandPlain` share: a chunk of the front, the lattice's rows, the side. */
type RowExpandArgs = [
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
];

interface TwoSidedExports {
  expand(...args: RowExpandArgs): number;
  claim(out: number, n: number, contested: number, res: number, side: number, val: bigint, state: number): number;
  expandPlain(...args: [...RowExpandArgs, val: number, sink: number, tiles: number, tileRowShift: number, tileColShift: number, tilesPerRow: number]): number;
  materialise(at: number, groups: number, h0: number, threshold: number): void;
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
 * (`threads: 'auto'`). From here two threads take 0.55–0.8 of one thread's wall time at 1.0–1.3x its
 * CPU on hard lattices (2-D 1448² to 2000², 3-D 128³ and 159³ in rows; docs/performance.md ›
 * `shortest_path` in two threads, from 2^21 cells); below, a second thread's start-up and handshake
 * weigh more than the half search it saves.
 */
export const TWO_SIDED_MIN_CELLS = 2 ** 21;

/** Above this many cells `threads: 'auto'` keeps the leaner one-thread search (kernel-pool-options.ts). */
export const TWO_SIDED_AUTO_MAX_CELLS = 2 ** 28;

/** Sync slot (after two-sided-search.ts's): + side, 1 once the side claims by compare-exchange only (see Plain claims above). */
const ACK = 16;
const SYNC_BYTES = 128;

/** Per thread region: results (0..8), row magic (16), shift (24), axes from 32 (as flat-bfs-wasm.ts). */
const HEADER = 32 + 64 * 24;
const MAX_PAGES = 32768;
/** Cells are int32 indices and one blocked cell past the last. */
const MAX_CELLS = 2 ** 31 - 2;

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

/** Rows add the plain claims' plan and tile marks (between the regions and the state). */
interface Layout extends SidesLayout {
  plain: PlainPlan;
  tiles: number;
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

/** One side of the search in one thread; `step` expands a chunk. */
export class SearchSide extends TwoSidedSide {
  readonly sync: Int32Array;
  readonly words: Int32Array;
  private readonly exports: TwoSidedExports;
  private readonly layout: Layout;
  protected readonly front: Int32Array;
  protected readonly out: Int32Array;
  protected readonly results: Int32Array;
  protected readonly contested: Int32Array;
  private readonly val: bigint;
  private readonly nowhere: number;
  private readonly wrapRowStep: number;
  /** The expansion's fixed arguments: a row's cells, the last row, the axes after the first. */
  private readonly rowCells: number;
  private readonly lastRow: number;
  private readonly inner: number;
  /** This side's claim value by layer code (1..3), made once rather than a BigInt per chunk. */
  private readonly codeVals: readonly bigint[];
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
    protected readonly chunk = TWO_SIDED_CHUNK,
    tileShift: TileShift = TWO_SIDED_TILE_SHIFT,
  ) {
    super();
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
    this.rowCells = lattice.strides[0]!;
    this.lastRow = lattice.shape[0]! - 1;
    this.inner = lattice.dimensions - 1;
    this.codeVals = [0, 1, 2, 3].map((code) => BigInt((1 << side) | (code << 2)));
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

  /**
   * Writes the blocked cells of piece `piece` of `pieces` of the rows' chunks as nibbles. Pieces
   * may run at once in the two threads: words holding cells of two pieces are OR-ed atomically.
   */
  materialisePiece(piece: number, pieces: number, checkpoint: () => void = () => undefined): void {
    if (this.lattice.obstacles.kind === 'procedural') this.materialiseProcedural(piece, pieces, checkpoint);
    else this.materialiseRows(piece, pieces, checkpoint);
  }

  /**
   * Procedural obstacles, hashed 2^16 cells at a time straight into nibbles (the wasm's
   * `materialise`, 32 cells a group; the last cells past a whole group in JS). Chunks start at
   * multiples of 32 cells, so no state word holds cells of two chunks and every word is stored
   * whole, which also clears what a kept memory's last search left.
   */
  private materialiseProcedural(piece: number, pieces: number, checkpoint: () => void): void {
    const { lattice, words } = this;
    const { threshold, offset } = lattice.obstacles as Extract<Lattice['obstacles'], { kind: 'procedural' }>;
    const per = 2 ** 16;
    const [from, to] = pieceOf(Math.ceil(lattice.cells / per), piece, pieces);
    // Cells in whole groups of 32; the rest (< 32) is the last chunk's tail.
    const grouped = lattice.cells - (lattice.cells % 32);
    for (let c = from; c < to; c++) {
      checkpoint();
      const lo = c * per;
      const hi = Math.min(lattice.cells, lo + per);
      const groups = (Math.min(hi, grouped) - lo) >>> 5;
      const base = lo >>> 3;
      if (threshold >= 2 ** 32) words.fill(0x33333333, base, base + 4 * groups);
      else this.exports.materialise(this.layout.state + lo / 2, groups, (lo + offset) % 2 ** 32 | 0, threshold | 0);
      for (let w = (lo + 32 * groups) >>> 3; 8 * w < hi; w++) {
        let word = 0;
        for (let k = 0; k < 8 && 8 * w + k < hi; k++) if (isProcedurallyBlocked(8 * w + k, threshold, offset)) word |= 3 << (4 * k);
        words[w] = word;
      }
      // The cell past the last (blocked by seedBoth) has a word of its own when the cells fill whole words.
      if (hi === lattice.cells && hi % 8 === 0) words[hi >>> 3] = 0;
      for (const open of [this.start, this.end]) {
        if (open >= lo && open < hi) words[open >>> 3]! &= ~(15 << (4 * (open & 7)));
      }
    }
  }

  /** Other obstacles, by blocks of rows (obstacle-planes.ts); words holding cells of two blocks are OR-ed atomically. */
  private materialiseRows(piece: number, pieces: number, checkpoint: () => void): void {
    const { lattice, words } = this;
    const rowCells = lattice.strides[0]!;
    const rows = lattice.shape[0]!;
    const per = rowsPerChunk(lattice);
    const [from, to] = pieceOf(Math.ceil(rows / per), piece, pieces);
    if (from >= to) return;
    const scratch = new Int32Array(Math.ceil((per * rowCells) / 32) + 1);
    for (let c = from; c < to; c++) {
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

  neighbours(cell: number): number[] {
    return neighboursOf(this.lattice, cell);
  }

  protected seed(side: number): number {
    return side === 0 ? this.start : this.end;
  }

  /** neighboursOf's order, with no list made: the walk back looks around each path cell (without a list a cell, half the walk's CPU on 2-D 3200²). */
  protected override neighbourWith(cell: number, nibble: number): number {
    const { shape, strides, periodic } = this.lattice;
    let rest = cell;
    for (let a = shape.length - 1; a >= 0; a--) {
      const side = shape[a]!;
      const stride = strides[a]!;
      const quotient = Math.floor(rest / side);
      const x = rest - quotient * side;
      rest = quotient;
      const wraps = periodic[a] === true && side > 2;
      const down = x > 0 ? cell - stride : wraps ? cell + (side - 1) * stride : -1;
      if (down >= 0 && this.nibble(down) === nibble) return down;
      const up = x < side - 1 ? cell + stride : wraps ? cell - (side - 1) * stride : -1;
      if (up >= 0 && this.nibble(up) === nibble) return up;
    }
    return -1;
  }

  /** Expands one chunk of the current layer; true once this side has stopped. */
  step(): boolean {
    if (this.finished) return true;
    if (this.stopsBeforeLayer()) return true;
    if (this.mode !== 'exchange' && !this.mayClaim()) return false;
    const { sync, side } = this;
    const count = this.listChunk();
    const code = ((this.layers + 1) % 3) + 1;
    const plain = this.mode === 'plain';
    const done = plain ? this.expandPlain(count, (1 << side) | (code << 2)) : this.expandListed(count, this.codeVals[code]!);
    const written = this.results[1]!;
    if (this.onChunk !== null) {
      const other = 1 - side;
      const quiet = Atomics.load(sync, ACK + other) !== 0 || Atomics.load(sync, DONE + other) !== 0;
      this.onChunk(this.front.slice(0, done), plain, quiet);
    }
    this.endChunk(written, done);
    return false;
  }

  /** Frontier cells [0, count) of the chunk, claimed with plain stores; the cells expanded (fewer when a tile stops plain claims). */
  private expandPlain(count: number, nibble: number): number {
    const { layout, side } = this;
    const plan = layout.plain;
    const region = layout.regions[side];
    let at = 0;
    let written = 0;
    for (;;) {
      const status = this.exports.expandPlain(layout.fronts[side], at, count, layout.outs[side], written, this.rowCells, this.lastRow, this.wrapRowStep, this.nowhere, region, this.inner, side, layout.state, nibble, region + 12, layout.tiles, plan.rowShift, plan.colShift, plan.perRow);
      written = this.results[1]!;
      if (status === 0) return count;
      at = this.results[0]!;
      if (status === 1) {
        this.recordMeeting(at);
        at++;
      } else if (!this.markTile(this.results[2]!)) {
        this.beginExchanges();
        return at;
      }
    }
  }

  /** The chunk's cells expandListed works on. */
  private listedCount = 0;

  /** `expand` from chunk cell `at`, `listed` cells listed: made once, not a closure per chunk (a chunk's garbage adds up to scavenges). */
  private readonly expandFrom = (at: number, listed: number): number => {
    const { layout, side } = this;
    return this.exports.expand(layout.fronts[side], at, this.listedCount, layout.outs[side], listed, this.rowCells, this.lastRow, this.wrapRowStep, this.nowhere, layout.regions[side], this.inner, side, layout.state);
  };

  /** Frontier cells [0, count) of the chunk, listed then claimed by compare-exchange; returns count. */
  private expandListed(count: number, val: bigint): number {
    const { layout, side } = this;
    this.listedCount = count;
    const written = this.expandRecording(this.expandFrom);
    // The listed cells claimed in a second pass: the first stays branch-free, and only fresh
    // cells pay for a compare-exchange. A cell the other side claimed in between is a meeting
    // too, recorded as this side's frontier cell next to it.
    this.results[1] = this.exports.claim(layout.outs[side], written, layout.contested[side], layout.regions[side], side, val, layout.state);
    this.recordContested(this.results[2]!);
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

  override get waiting(): boolean {
    return this.mode === 'switching';
  }

  /** Polls, then sleeps a millisecond at a time, until the other side has stopped plain claims or searching. */
  override awaitOther(checkpoint: () => void): void {
    const { sync } = this;
    const other = 1 - this.side;
    for (let polled = 0; Atomics.load(sync, ACK + other) === 0 && Atomics.load(sync, DONE + other) === 0; polled++) {
      if (polled < 4000) continue;
      checkpoint();
      Atomics.wait(sync, ACK + other, 0, 1);
    }
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

/** What a thread's task carries. */
export interface TwoSidedTaskInput {
  lattice: Lattice;
  start: number;
  end: number;
  side: 0 | 1;
  memory: SharedWasmMemory;
  /** As the memory was made with (twoSidedMemory); the default when absent. */
  tileShift?: TileShift;
  /** Side 0 dives first with this budget, while side 1 searches (two-sided-search.ts). */
  diveBudget?: number;
}

/**
 * One side's thread. Side 0 returns the outcome; side 1 returns null (its best meeting and
 * visited count go to side 0 through the sync block).
 */
export function twoSidedBfsThread(
  task: TwoSidedTaskInput,
  control: JobControl,
  mark: (phase: TwoSidedPhase) => void = () => undefined,
): TwoSidedThreadResult {
  const buildStarted = performance.now();
  const { lattice, start, end, side: s, memory } = task;
  const side = new SearchSide(memory, lattice, start, end, s, TWO_SIDED_CHUNK, task.tileShift === undefined ? TWO_SIDED_TILE_SHIFT : task.tileShift);
  return runTwoSidedThread(side, lattice, start, end, control, buildStarted, mark, task.diveBudget);
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
  return interleaveSides(sides, pick);
}
