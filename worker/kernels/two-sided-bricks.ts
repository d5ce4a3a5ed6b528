/**
 * The two-thread search (two-sided-bfs.ts: one side per thread, one shared WebAssembly memory,
 * a compare-exchange per claimed cell, no barrier per layer, the same stop rule and its proof)
 * with the state of a 3-D lattice in 8×8×8 bricks (brick-layout.ts) instead of rows
 * (wasm/two-sided-bricks.wat). Row by row a layer's diagonal surface touches a 64-bit state word
 * per cell or two; in bricks a word holds two 8-cell lines of one brick, and a cache line 128
 * cells of it, so both sides' layers stay in the caches they share. The padding around the
 * lattice is blocked, so there is no boundary test; non-periodic lattices only.
 * docs/performance.md › "shortest_path in two threads, in bricks".
 */
import { BRICK_MIN_CELLS } from '../../shared/lattice/brick-padding.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import type { BfsOutcome } from './bidirectional-bfs.ts';
import { BrickLayout } from './brick-layout.ts';
import { BrickObstacles } from './brick-obstacles.ts';
import type { JobControl } from './job-control.ts';
import { SPREAD, TwoSidedSide, align, interleaveSides, pieceOf, runTwoSidedThread, type SidesLayout, type TwoSidedThreadResult } from './two-sided-search.ts';
import { WASM_PAGE, compileWasm, instantiate, sharedWasmMemory, type SharedWasmMemory } from './wasm-runtime.ts';

interface BrickSideExports {
  expand(front: number, from: number, count: number, out: number, n: number, step1: number, step0: number, res: number, side: number, state: number): number;
  claim(out: number, n: number, contested: number, res: number, side: number, val: bigint, state: number): number;
  materialise(at: number, k0: number, n0: number, n1: number, n2: number, b1: number, b2: number, h0: number, threshold: number): void;
}

let compiled: object | null = null;

function bricksModule(): object {
  compiled ??= compileWasm(new URL('./wasm/two-sided-bricks.wasm', import.meta.url));
  return compiled;
}

/** Frontier cells expanded per call (a cancel check between calls). */
export const BRICKS_CHUNK = 4096;

/**
 * 3-D lattices from this many cells keep the two-thread search's state in bricks (the pool's
 * `twoSidedBrickMinCells`), as the one-thread search does; below, rows (two-sided-bfs.ts).
 */
export const TWO_SIDED_BRICK_MIN_CELLS = BRICK_MIN_CELLS;

/** Bytes of the sync block at address 0 (slots in two-sided-search.ts). */
const SYNC_BYTES = 64;
/** Per thread region: results (res+0 cell at, +4 written, +8 contested), then the chunk lists. */
const HEADER = 16;
const MAX_PAGES = 32768;

function layoutOf(bricks: BrickLayout, chunk: number): SidesLayout {
  const listBytes = 4 * chunk * 6;
  const regionBytes = HEADER + 4 * chunk + 2 * listBytes;
  const r0 = SYNC_BYTES;
  const r1 = r0 + regionBytes;
  // The state from a 64-byte line: a brick's 512 nibbles are 4 whole lines.
  const state = align(r1 + regionBytes, 64);
  const total = state + bricks.cells / 2;
  const front = (r: number): number => r + HEADER;
  const out = (r: number): number => front(r) + 4 * chunk;
  return { regions: [r0, r1], fronts: [front(r0), front(r1)], outs: [out(r0), out(r1)], contested: [out(r0) + listBytes, out(r1) + listBytes], state, total };
}

/**
 * The brick layout the two-thread search keeps a lattice in (3-D, non-periodic, padding within
 * brick-padding.ts's bound), or null. `maxPadding`: tests put small lattices in bricks.
 */
export function twoSidedBricksLayout(lattice: Pick<Lattice, 'dimensions' | 'shape' | 'periodic'>, maxPadding?: number): BrickLayout | null {
  const bricks = BrickLayout.of(lattice, maxPadding);
  return bricks !== null && layoutOf(bricks, BRICKS_CHUNK).total <= MAX_PAGES * WASM_PAGE ? bricks : null;
}

/** Bytes of the shared memory for a lattice in bricks (whole pages). */
export function twoSidedBricksBytes(bricks: BrickLayout, chunk = BRICKS_CHUNK): number {
  return Math.ceil(layoutOf(bricks, chunk).total / WASM_PAGE) * WASM_PAGE;
}

/**
 * The shared memory of one search: `kept` (its sync block zeroed here) when large enough, else a
 * fresh one. The state needs no zeroing: materialising the obstacles stores every word.
 */
export function twoSidedBricksMemory(bricks: BrickLayout, chunk = BRICKS_CHUNK, kept: SharedWasmMemory | null = null): SharedWasmMemory {
  const bytes = twoSidedBricksBytes(bricks, chunk);
  if (kept !== null && kept.buffer.byteLength >= bytes) {
    new Int32Array(kept.buffer, 0, SYNC_BYTES / 4).fill(0);
    return kept;
  }
  return sharedWasmMemory(bytes / WASM_PAGE);
}

/** One side of the search in one thread; `step` lists a chunk, or claims it. Cells are brick indices. */
export class BrickSearchSide extends TwoSidedSide {
  readonly sync: Int32Array;
  readonly words: Int32Array;
  private readonly exports: BrickSideExports;
  private readonly layout: SidesLayout;
  protected readonly front: Int32Array;
  protected readonly out: Int32Array;
  protected readonly results: Int32Array;
  protected readonly contested: Int32Array;
  private readonly coords = new Int32Array(3);
  readonly startCell: number;
  readonly endCell: number;
  /** Cells listed by the last `step`, waiting for their claims; -1 none. */
  private listed = -1;
  /** Front cells of the listed chunk. */
  private listedFront = 0;

  constructor(
    memory: SharedWasmMemory,
    private readonly lattice: Lattice,
    readonly bricks: BrickLayout,
    private readonly start: number,
    private readonly end: number,
    readonly side: 0 | 1,
    protected readonly chunk = BRICKS_CHUNK,
  ) {
    super();
    this.layout = layoutOf(bricks, chunk);
    this.exports = instantiate<BrickSideExports>(bricksModule(), { env: { memory } });
    const { buffer } = memory;
    this.sync = new Int32Array(buffer, 0, SYNC_BYTES / 4);
    this.words = new Int32Array(buffer, this.layout.state, bricks.cells / 8);
    const region = this.layout.regions[side];
    this.results = new Int32Array(buffer, region, 3);
    this.contested = new Int32Array(buffer, this.layout.contested[side], chunk * 6);
    this.front = new Int32Array(buffer, this.layout.fronts[side], chunk);
    this.out = new Int32Array(buffer, this.layout.outs[side], chunk * 6);
    this.startCell = bricks.fromRowMajor(start);
    this.endCell = bricks.fromRowMajor(end);
    this.fronts.data[0] = side === 0 ? this.startCell : this.endCell;
    this.fronts.length = 1;
  }


  /**
   * Writes the state of piece `piece` of `pieces` of the slabs (8 planes of axis 0). A slab is
   * whole words, each stored (which also clears what a kept memory's last search left), so pieces
   * may run at once in the two threads with no atomics. Procedural obstacles (and none) are hashed
   * straight into nibbles, the padding from masks (the wasm's `materialise`); other obstacles go
   * through a byte plane (`materialisePlane`).
   */
  materialisePiece(piece: number, pieces: number, checkpoint: () => void = () => undefined): void {
    const rule = this.lattice.obstacles;
    if (rule.kind === 'procedural' || rule.kind === 'none') this.materialiseHashed(piece, pieces, checkpoint);
    else this.materialisePlane(piece, pieces, checkpoint);
  }

  /** Procedural obstacles (or none) a slab at a time in SIMD, then the path's ends opened. */
  private materialiseHashed(piece: number, pieces: number, checkpoint: () => void): void {
    const { bricks, words, lattice } = this;
    const rule = lattice.obstacles;
    const threshold = rule.kind === 'procedural' ? rule.threshold : 0;
    const offset = rule.kind === 'procedural' ? rule.offset : 0;
    const slabWords = bricks.step0 / 8;
    const [from, to] = pieceOf(bricks.b0, piece, pieces);
    for (let slab = from; slab < to; slab++) {
      checkpoint();
      if (threshold >= 2 ** 32) words.fill(0x33333333, slab * slabWords, (slab + 1) * slabWords);
      else this.exports.materialise(this.layout.state + (slab * bricks.step0) / 2, slab, bricks.n0, bricks.n1, bricks.n2, bricks.b1, bricks.b2, offset | 0, threshold | 0);
      for (const open of [this.startCell, this.endCell]) {
        if (Math.floor(open / bricks.step0) === slab) words[open >>> 3]! &= ~(15 << (4 * (open & 7)));
      }
    }
  }

  /**
   * Any obstacles, a slab at a time: its blocked bits into a one-slab scratch plane
   * (brick-obstacles.ts), spread to nibbles by a JS loop. Public: the reference the fused hash
   * is tested and measured against.
   */
  materialisePlane(piece: number, pieces = 2, checkpoint: () => void = () => undefined): void {
    const { bricks, words } = this;
    const [from, to] = pieceOf(bricks.b0, piece, pieces);
    if (from >= to) return;
    const slabWords = bricks.step0 / 8;
    const scratch = new Int32Array(slabWords / 4);
    const bytes = new Uint8Array(scratch.buffer);
    const obstacles = new BrickObstacles(scratch, this.lattice, bricks, [this.start, this.end]);
    for (let slab = from; slab < to; slab++) {
      checkpoint();
      obstacles.materialise(slab, bytes, 0);
      const base = slab * slabWords;
      for (let k = 0; k < slabWords; k++) words[base + k] = SPREAD[bytes[k]!]!;
    }
  }

  /** Claims both seeds (before either side searches). */
  seedBoth(): void {
    const { words } = this;
    const set = (cell: number, nibble: number): void => void Atomics.or(words, cell >>> 3, nibble << (4 * (cell & 7)));
    set(this.startCell, 1 | (1 << 2));
    set(this.endCell, 2 | (1 << 2));
  }

  /** The lattice neighbours of a cell, as brick indices (the padding left out). */
  neighbours(cell: number): number[] {
    const { bricks, coords } = this;
    const out: number[] = [];
    const sides = [bricks.n0, bricks.n1, bricks.n2];
    for (let a = 2; a >= 0; a--) {
      for (const delta of [-1, 1]) {
        bricks.coordsOf(cell, coords);
        const x = coords[a]! + delta;
        if (x < 0 || x >= sides[a]!) continue;
        coords[a] = x;
        out.push(bricks.indexOf(coords[0]!, coords[1]!, coords[2]!));
      }
    }
    return out;
  }

  protected seed(side: number): number {
    return side === 0 ? this.startCell : this.endCell;
  }

  /** A half path as row-major lattice cells. */
  override latticeCells(half: number[]): number[] {
    const scratch = new Int32Array(3);
    return half.map((cell) => this.bricks.toRowMajor(cell, scratch));
  }

  /**
   * Lists the next chunk's free neighbours, or claims the listed ones: a chunk takes two calls,
   * so an interleaving (twoSidedBricksInterleaved) can put the other side's work between the
   * listing and the claims, as two threads do. True once this side has stopped.
   */
  step(): boolean {
    if (this.finished) return true;
    if (this.listed >= 0) {
      this.claimListed();
      return false;
    }
    if (this.stopsBeforeLayer()) return true;
    const { side, bricks, layout } = this;
    const count = this.listChunk();
    this.listed = this.expandRecording((at, written) =>
      this.exports.expand(layout.fronts[side], at, count, layout.outs[side], written, bricks.step1, bricks.step0, layout.regions[side], side, layout.state),
    );
    this.listedFront = count;
    return false;
  }

  /** Claims the cells the last listing found; at the chunk's end of the layer, the next layer begins. */
  private claimListed(): void {
    const { side, layout } = this;
    const code = ((this.layers + 1) % 3) + 1;
    const val = BigInt((1 << side) | (code << 2));
    const written = this.exports.claim(layout.outs[side], this.listed, layout.contested[side], layout.regions[side], side, val, layout.state);
    this.listed = -1;
    this.recordContested(this.results[2]!);
    this.endChunk(written, this.listedFront);
  }
}

/** What a thread's task carries (task.ts's TwoSidedBfsTask with `bricks` set). */
export interface TwoSidedBricksTaskInput {
  lattice: Lattice;
  start: number;
  end: number;
  side: 0 | 1;
  memory: SharedWasmMemory;
  /** Side 0 dives first with this budget, while side 1 searches (two-sided-search.ts). */
  diveBudget?: number;
}

/** One side's thread (twoSidedBfsThread's, in bricks). */
export function twoSidedBricksThread(task: TwoSidedBricksTaskInput, control: JobControl): TwoSidedThreadResult {
  const buildStarted = performance.now();
  const { lattice, start, end, side: s, memory } = task;
  const bricks = BrickLayout.of(lattice, Infinity)!;
  return runTwoSidedThread(new BrickSearchSide(memory, lattice, bricks, start, end, s), lattice, start, end, control, buildStarted, undefined, task.diveBudget);
}

/**
 * Both sides in the calling thread, a chunk at a time in the order `pick` chooses (0 or 1 for
 * the side to step next; a stopped side is skipped): tests drive the meeting rule through
 * interleavings two threads could produce, with `chunk` as small as one cell. `maxPadding`
 * lifts brick-padding.ts's bound so small lattices take bricks.
 */
export function twoSidedBricksInterleaved(lattice: Lattice, start: number, end: number, pick: () => 0 | 1, chunk = BRICKS_CHUNK, maxPadding = Infinity): BfsOutcome {
  if (start === end) return { reachable: true, path: [start], length: 0, visited: 1 };
  const bricks = twoSidedBricksLayout(lattice, maxPadding);
  if (bricks === null) throw new RangeError('the lattice does not take the brick layout');
  const memory = twoSidedBricksMemory(bricks, chunk);
  return interleaveSides([new BrickSearchSide(memory, lattice, bricks, start, end, 0, chunk), new BrickSearchSide(memory, lattice, bricks, start, end, 1, chunk)], pick);
}
