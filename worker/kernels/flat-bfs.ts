/**
 * Bidirectional breadth-first search of the whole lattice in one thread, with 3 bits of state per
 * cell: `marks` (blocked, or reached from the end side) and the layer code (0 unreached, else
 * 1 + layer mod 3) as two bit planes interleaved word by word, so a neighbour check is one word
 * of marks and two adjacent words of codes. Frontiers are plain lists of cell indices; a cell's
 * place on the faces comes from its row and its offset in the row, so no per-cell table is read.
 * See docs/architecture.md › Inside `shortest_path`.
 */
import { BRICK_MIN_CELLS } from '../../shared/lattice/brick-padding.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { coordsOf, neighboursOf, stepLowerBound } from '../../shared/lattice/geometry.ts';
import type { JobControl } from './job-control.ts';
import { EXPAND_MET, EXPAND_NEEDS_BLOCK, FlatBfsWasm, WASM_CHUNK, flatWasmBytes } from './flat-bfs-wasm.ts';
import { FrontierOrder } from './frontier-order.ts';
import { ObstaclePlanes, blockShiftOf } from './obstacle-planes.ts';
import { planSlabs } from './slabs.ts';
import type { FlatBfsTask } from './task.ts';
import type { BfsOutcome } from './bidirectional-bfs.ts';
import { BrickLayout } from './brick-layout.ts';
import { BrickObstacles } from './brick-obstacles.ts';
import { joinHalves } from './path-result.ts';

/**
 * Lattices from this many cells have their large frontiers sorted into memory order before each
 * layer: their state (3 bits per cell, 6 MiB here) no longer sits in the caches, and a frontier
 * in the order a layer found it sends every neighbour check to a different line.
 */
const ORDER_MIN_LATTICE_CELLS = 2 ** 24;

/**
 * 3-D lattices from this many cells (2^22) are searched in the brick layout (brick-layout.ts): row by
 * row, a layer's diagonal surface touches a line of state per cell or two, and from 159³ on
 * those lines no longer stay in the caches from one layer to the next.
 */
const BRICK_MIN_LATTICE_CELLS = BRICK_MIN_CELLS;

/** Frontier cells expanded between two cancel checks. */
const CHECK_EVERY = 8192; // a power of 2

/** Words of one bit plane over `cells` and the blocked cell past them. */
function planeWords(cells: number): number {
  return Math.ceil((cells + 1) / 32);
}

/** Bytes of the state: marks, then the two code planes interleaved. */
function stateBytes(cells: number): number {
  return 3 * 4 * planeWords(cells);
}

/** Obstacle blocks of the whole lattice as one slab. */
function blocksOf(lattice: Pick<Lattice, 'shape' | 'strides'>): number {
  const rows = lattice.shape[0]!;
  return Math.ceil(rows / (1 << blockShiftOf(lattice.strides[0]!, rows)));
}

/**
 * Where a search's state lives: in the WebAssembly instance's memory (thread bytes, `shared` 0)
 * when it fits, else in a SharedArrayBuffer of `shared` bytes the pool allocates.
 */
export function flatBfsPlan(lattice: Pick<Lattice, 'cells' | 'dimensions' | 'shape' | 'strides' | 'periodic'>): { shared: number; wasm: number | null } {
  const bricks = brickLayoutFor(lattice, BRICK_MIN_LATTICE_CELLS);
  if (bricks !== null) return { shared: 0, wasm: flatWasmBytes(lattice, planeWords(bricks.cells), bricks.bricks) };
  const wasm = flatWasmBytes(lattice, planeWords(lattice.cells), blocksOf(lattice));
  return { shared: wasm === null ? stateBytes(lattice.cells) : 0, wasm };
}

/** The brick layout a lattice of `minCells` or more is searched in, when it takes one and its state fits a WebAssembly memory. */
function brickLayoutFor(lattice: Pick<Lattice, 'cells' | 'dimensions' | 'shape' | 'periodic'>, minCells: number, maxPadding?: number): BrickLayout | null {
  if (lattice.cells < minCells) return null;
  const bricks = BrickLayout.of(lattice, maxPadding);
  return bricks !== null && flatWasmBytes(lattice, planeWords(bricks.cells), bricks.bricks) !== null ? bricks : null;
}

/** Whether the one-thread search would keep a lattice's state in bricks (3-D, 2^22 cells and more). */
export function flatBfsUsesBricks(lattice: Pick<Lattice, 'cells' | 'dimensions' | 'shape' | 'periodic'>): boolean {
  return brickLayoutFor(lattice, BRICK_MIN_LATTICE_CELLS) !== null;
}

/** Cells are int32 indices here. */
const MAX_CELLS = 2 ** 31 - 2;

/** Whether the one-thread search takes a lattice. */
export function flatBfsFits(lattice: Pick<Lattice, 'cells'>): boolean {
  return lattice.cells <= MAX_CELLS;
}

/**
 * Most bytes of frontier arrays a thread keeps between searches. A frontier that outgrew its
 * array took fresh pages (~3 ms of CPU per MiB on the 2-core VM); the next search starts from the
 * kept arrays instead, zeroed. Per-thread headroom beside kept-wasm-memory.ts's `KEEP_BYTES`
 * (docs/architecture.md › Kernels), not part of a run's reservation.
 */
export const KEPT_LIST_BYTES = 4 * 2 ** 20;

/** This thread's kept frontier arrays, largest first. */
const keptLists: Int32Array[] = [];

/** A kept frontier array (zeroed: the last search's cells, maybe another tenant's, stay behind), else a fresh one. */
function takeListArray(): Int32Array {
  const kept = keptLists.shift();
  if (kept === undefined) return new Int32Array(1024);
  kept.fill(0);
  return kept;
}

/** Keeps a search's frontier arrays for the thread's next search, within KEPT_LIST_BYTES. */
function keepListArrays(arrays: readonly Int32Array[]): void {
  const all = [...keptLists, ...arrays.filter((a) => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && !keptLists.includes(a))];
  all.sort((a, b) => b.byteLength - a.byteLength);
  keptLists.length = 0;
  let bytes = 0;
  for (const array of all) {
    if (keptLists.length === 3 || bytes + array.byteLength > KEPT_LIST_BYTES) continue;
    keptLists.push(array);
    bytes += array.byteLength;
  }
}

/** The frontier arrays this thread keeps (tests fill them with garbage). */
export function keptFrontierArrays(): readonly Int32Array[] {
  return keptLists;
}

/** Forgets this thread's kept frontier arrays (tests: a search from fresh ones). */
export function dropKeptFrontierArrays(): void {
  keptLists.length = 0;
}

/**
 * A growable list of cells. `capacity` grows as a fresh list's array would (1,024 cells, doubled),
 * so the bytes a search reports and reserves do not depend on the kept array it started from.
 */
class CellList {
  data = takeListArray();
  length = 0;
  capacity = 1024;
  peakBytes = 4 * this.capacity;

  grow(): Int32Array {
    this.capacity *= 2;
    this.peakBytes = Math.max(this.peakBytes, 4 * this.capacity);
    if (this.data.length >= this.capacity) return this.data;
    const next = new Int32Array(this.capacity);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
    return next;
  }
}

/** What the search returns. */
export interface FlatBfsOutcome {
  outcome: BfsOutcome;
  bytes: number;
  build_ms: number;
  /** Whether the state was in rows or in bricks (brick-layout.ts). */
  layout: 'rows' | 'bricks';
}

/**
 * Knobs tests turn: `orderMinCells`, the lattice size from which row-major frontiers are sorted,
 * `brickMinCells`, from which 3-D lattices are searched in bricks (never sorted), and
 * `brickMaxPadding`, the most the padding may multiply the cells by (1.25; small lattices pad more).
 */
export interface FlatBfsTuning {
  orderMinCells?: number;
  brickMinCells?: number;
  brickMaxPadding?: number;
}

export function flatBfs(task: FlatBfsTask, control: JobControl, tuning: FlatBfsTuning = {}): FlatBfsOutcome {
  const buildStarted = performance.now();
  const search = new FlatSearch(task, control, tuning.orderMinCells ?? ORDER_MIN_LATTICE_CELLS, tuning.brickMinCells ?? BRICK_MIN_LATTICE_CELLS, tuning.brickMaxPadding);
  const build_ms = performance.now() - buildStarted;
  try {
    const outcome = search.run();
    return { outcome, bytes: search.bytes, build_ms, layout: search.layout };
  } finally {
    // Cancelled or done: the thread's next search may reuse the instance's mapped pages.
    search.release();
  }
}

class FlatSearch {
  private readonly lattice: Lattice;
  private readonly marks: Int32Array;
  /** Word 2g holds the code's low bits of cells 32g.., word 2g + 1 the high bits. */
  private readonly codes: Int32Array;
  /** The WebAssembly expansion, holding the state; null when the state is a shared buffer. */
  private readonly wasm: FlatBfsWasm | null;
  /** Row-major obstacle blocks, or (in the brick layout) slabs of bricks; one of the two is null. */
  private readonly planes: ObstaclePlanes | null;
  private readonly brickObstacles: BrickObstacles | null;
  /** The brick layout the state and frontier cells are in, or null for row-major order. */
  private readonly bricks: BrickLayout | null;
  /** The search's ends in its own cell order. */
  private readonly startCell: number;
  private readonly endCell: number;
  /** Scratch coordinates. */
  private readonly coords = new Int32Array(3);
  private readonly lazy: boolean;
  private readonly rowCells: number;
  private readonly rows: number;
  /** Per inner axis (1..d-1): its stride, the period its coordinate repeats with, and its wrap step (0 if none). */
  private readonly strides: Int32Array;
  private readonly periods: Int32Array;
  private readonly wraps: Int32Array;
  private readonly wrapRows: boolean;
  private readonly fronts: [CellList, CellList] = [new CellList(), new CellList()];
  private next = new CellList();
  private readonly layersDone = [0, 0];
  private visited = 0;
  private meetTo = -1;
  private meetSide = 0;
  /** Per obstacle block, 1 once it and its neighbour blocks are materialised. */
  private readonly near: Uint8Array;
  /** A cell past the last, blocked: where steps off the lattice land. */
  private readonly nowhere: number;
  /** Scratch: the neighbours of the cell being expanded. */
  private readonly steps: Int32Array;
  /** Sorts large frontiers into memory order on lattices whose state outgrows the caches; else null. */
  private readonly order: FrontierOrder | null;

  constructor(
    private readonly task: FlatBfsTask,
    private readonly control: JobControl,
    orderMinCells: number,
    brickMinCells: number,
    brickMaxPadding: number | undefined,
  ) {
    const { lattice } = task;
    this.lattice = lattice;
    this.bricks = task.state === null ? brickLayoutFor(lattice, brickMinCells, brickMaxPadding) : null;
    const bricks = this.bricks;
    const cells = bricks?.cells ?? lattice.cells;
    const words = planeWords(cells);
    const blocks = bricks?.bricks ?? blocksOf(lattice);
    this.startCell = bricks?.fromRowMajor(task.start) ?? task.start;
    this.endCell = bricks?.fromRowMajor(task.end) ?? task.end;
    const inner = lattice.dimensions - 1;
    const axes = new Int32Array(3 * inner);
    const periodic = lattice.boundary === 'periodic';
    for (let a = 1; a <= inner; a++) {
      const side = lattice.shape[a]!;
      axes[3 * a - 3] = lattice.strides[a]!;
      axes[3 * a - 2] = lattice.strides[a - 1]!;
      axes[3 * a - 1] = periodic && side > 2 ? (side - 1) * lattice.strides[a]! : 0;
    }
    if (task.state === null) {
      this.wasm = new FlatBfsWasm(lattice, words, blocks, axes);
      this.marks = this.wasm.marks;
      this.codes = this.wasm.codes;
      this.near = this.wasm.near;
    } else {
      this.wasm = null;
      this.marks = new Int32Array(task.state, 0, words);
      this.codes = new Int32Array(task.state, 4 * words, 2 * words);
      this.near = new Uint8Array(blocks);
    }
    this.lazy = lattice.obstacles.kind === 'procedural';
    if (bricks === null) {
      this.planes = new ObstaclePlanes(this.marks, lattice, planSlabs(lattice, 1)[0]!, [task.start, task.end]);
      this.brickObstacles = null;
    } else {
      this.planes = null;
      this.brickObstacles = new BrickObstacles(this.marks, lattice, bricks, [task.start, task.end]);
      if (!this.lazy) this.brickObstacles.materialiseAll();
    }
    this.rowCells = lattice.strides[0]!;
    this.rows = lattice.shape[0]!;
    this.strides = Int32Array.from({ length: inner }, (_, a) => axes[3 * a]!);
    this.periods = Int32Array.from({ length: inner }, (_, a) => axes[3 * a + 1]!);
    this.wraps = Int32Array.from({ length: inner }, (_, a) => axes[3 * a + 2]!);
    this.wrapRows = periodic && this.rows > 2;
    // Rows wrap to the far end of the lattice, out of reach of the per-block check.
    if (this.wrapRows && this.lazy) this.planes?.materialiseAll();
    if (!this.lazy || this.wrapRows) this.near.fill(1);
    this.nowhere = cells;
    this.marks[this.nowhere >>> 5]! |= 1 << (this.nowhere & 31);
    this.steps = new Int32Array(2 * lattice.dimensions);
    // In bricks a layer comes out near enough to memory order: a cell's neighbours are mostly in
    // its own brick, so the order of one layer carries to the next; sorting cost more than it saved.
    this.order = bricks === null && lattice.cells >= orderMinCells ? new FrontierOrder(cells) : null;
  }

  get layout(): 'rows' | 'bricks' {
    return this.bricks === null ? 'rows' : 'bricks';
  }

  /** Hands the WebAssembly instance back for reuse; the search is unusable afterwards. */
  release(): void {
    this.wasm?.release();
    keepListArrays([this.fronts[0].data, this.fronts[1].data, this.next.data]);
  }

  /** Private memory: the frontier lists at their largest, the block flags, the axis tables. */
  get bytes(): number {
    const lists = this.fronts[0].peakBytes + this.fronts[1].peakBytes + this.next.peakBytes;
    const tables = 3 * this.strides.byteLength + this.steps.byteLength;
    const obstacles = this.planes?.bytes ?? this.brickObstacles!.byteLength;
    return lists + (this.order?.bytes ?? 0) + obstacles + (this.wasm === null ? this.near.byteLength : this.wasm.bytes) + tables;
  }

  run(): BfsOutcome {
    const { task, control, fronts, layersDone } = this;
    this.seed(this.startCell, 0);
    this.seed(this.endCell, 1);
    const bound = Math.max(1, stepLowerBound(this.lattice, coordsOf(this.lattice, task.start), coordsOf(this.lattice, task.end)));
    for (;;) {
      if (fronts[0].length === 0 || fronts[1].length === 0) {
        return { reachable: false, path: [], length: null, visited: this.visited };
      }
      const side = fronts[0].length <= fronts[1].length ? 0 : 1;
      if (this.expand(side)) break;
      const grown = this.next;
      this.next = fronts[side]!;
      fronts[side] = grown;
      if (this.order !== null) this.inMemoryOrder(grown);
      layersDone[side]!++;
      const reached = (layersDone[0]! + layersDone[1]!) / bound;
      control.publishProgress(0.99 * Math.min(1, Math.max(reached, this.visited / this.lattice.cells)));
    }
    const walked = this.walkBack(this.meetSide, this.meetTo);
    const bricks = this.bricks;
    const path = bricks === null ? walked : walked.map((cell) => bricks.toRowMajor(cell, this.coords));
    return { reachable: true, path, length: path.length - 1, visited: this.visited };
  }

  private seed(cell: number, side: number): void {
    if (this.bricks !== null) {
      const slab = Math.floor(cell / this.bricks.step0);
      if (this.brickObstacles!.ready[slab] === 0) this.brickObstacles!.materialise(slab);
    } else {
      this.planes!.ensureRow(Math.floor(cell / this.rowCells));
    }
    const word = cell >>> 5;
    const bit = 1 << (cell & 31);
    this.codes[2 * word]! |= bit; // code 1: layer 0
    if (side === 1) this.marks[word]! |= bit;
    else this.marks[word]! &= ~bit;
    const list = this.fronts[side]!;
    list.data[list.length++] = cell;
    this.visited++;
  }

  /** Sorts a large frontier by block (frontier-order.ts), swapping its array for the sort's scratch. */
  private inMemoryOrder(list: CellList): void {
    const data = new Uint32Array(list.data.buffer, 0, list.data.length);
    const sorted = this.order!.order(data, list.length);
    if (sorted !== data) list.data = new Int32Array(sorted.buffer as ArrayBuffer, 0, sorted.length);
  }

  /** Grows one side by a layer; true when it met the other side (the meeting is recorded). */
  private expand(side: number): boolean {
    return this.wasm === null ? this.expandHere(side) : this.expandInWasm(side, this.wasm);
  }

  /** The layer in WebAssembly, a chunk of frontier cells per call. */
  private expandInWasm(side: number, wasm: FlatBfsWasm): boolean {
    const { control, next } = this;
    const front = this.fronts[side]!;
    const code = ((this.layersDone[side]! + 1) % 3) + 1;
    const blockShift = this.planes?.blockShift ?? 0;
    const bricks = this.bricks;
    let grown = 0;
    for (let from = 0; from < front.length; from += WASM_CHUNK) {
      control.checkpoint();
      const count = Math.min(WASM_CHUNK, front.length - from);
      wasm.load(front.data, from, count);
      let at = 0;
      let written = 0;
      let status: number;
      for (;;) {
        status =
          bricks === null
            ? wasm.expand(at, count, written, code, side, blockShift, this.wrapRows)
            : wasm.expandBricks(at, count, written, code, side, bricks.step1, bricks.step0);
        written = wasm.written;
        if (status !== EXPAND_NEEDS_BLOCK) break;
        at = wasm.at;
        this.materialiseNear(wasm.block);
      }
      while (grown + written > next.capacity) {
        next.length = grown;
        next.grow();
      }
      next.data.set(wasm.fresh(written), grown);
      grown += written;
      if (status === EXPAND_MET) {
        next.length = grown;
        this.recordMeeting(front.data[from + wasm.at]!, side);
        return true;
      }
    }
    next.length = grown;
    this.visited += grown;
    return false;
  }

  /** The layer in JavaScript (lattices whose state does not fit a WebAssembly memory). */
  private expandHere(side: number): boolean {
    const { control, marks, codes, lazy, planes, rowCells, rows, strides, periods, wraps, wrapRows, steps, nowhere } = this;
    const near = this.near;
    const blockShift = planes!.blockShift;
    const front = this.fronts[side]!;
    const next = this.next;
    const code = ((this.layersDone[side]! + 1) % 3) + 1;
    const lowMask = -(code & 1);
    const highMask = -(code >> 1);
    // A fresh cell's mark is set on the end side; a step meets the other side on a reached cell
    // whose mark is set (from the start side) or clear (from the end side).
    const endMask = side === 1 ? -1 : 0;
    const inner = strides.length;
    const lastRow = rows - 1;
    const wrapRowStep = lastRow * rowCells;
    const cells = front.data;
    const size = front.length;
    const count = 2 + 2 * inner;
    let out: Int32Array = next.data;
    let grown = 0;
    for (let f = 0; f < size; f++) {
      if ((f & (CHECK_EVERY - 1)) === 0) control.checkpoint();
      const cell = cells[f]!;
      const row = (cell / rowCells) | 0;
      if (lazy && near[row >>> blockShift] === 0) this.materialiseNear(row >>> blockShift);
      // Neighbours off the lattice step onto `nowhere`, a cell past the last that stays blocked.
      steps[0] = row > 0 ? cell - rowCells : wrapRows ? cell + wrapRowStep : nowhere;
      steps[1] = row < lastRow ? cell + rowCells : wrapRows ? cell - wrapRowStep : nowhere;
      const p = cell - row * rowCells;
      for (let a = 0; a < inner; a++) {
        const stride = strides[a]!;
        const period = periods[a]!;
        const q = a === 0 ? p : p % period;
        const wrap = wraps[a]!;
        steps[2 + 2 * a] = q >= stride ? cell - stride : wrap !== 0 ? cell + wrap : nowhere;
        steps[3 + 2 * a] = q < period - stride ? cell + stride : wrap !== 0 ? cell - wrap : nowhere;
      }
      if (grown + count > next.capacity) {
        next.length = grown;
        out = next.grow();
      }
      // Branch-free: whether a neighbour is fresh is a coin toss on these lattices.
      let met = 0;
      for (let k = 0; k < count; k++) {
        const nb = steps[k]!;
        const word = nb >>> 5;
        const shift = nb & 31;
        const bit = 1 << shift;
        const mark = marks[word]!;
        const low = codes[2 * word]!;
        const high = codes[2 * word + 1]!;
        const seen = low | high;
        const fresh = bit & ~(mark | seen);
        codes[2 * word] = low | (fresh & lowMask);
        codes[2 * word + 1] = high | (fresh & highMask);
        marks[word] = mark | (fresh & endMask);
        out[grown] = nb;
        grown += fresh >>> shift;
        met |= seen & bit & (mark ^ endMask);
      }
      if (met !== 0) {
        next.length = grown;
        this.recordMeeting(cell, side);
        return true;
      }
    }
    next.length = grown;
    this.visited += grown;
    return false;
  }

  /** Materialises obstacle block `block` and its neighbours (in bricks: brick `block`'s slab and its neighbours). */
  private materialiseNear(block: number): void {
    if (this.bricks !== null) {
      this.materialiseSlabsNear(block, this.bricks, this.brickObstacles!);
      return;
    }
    const planes = this.planes!;
    const near = this.near;
    for (let b = Math.max(0, block - 1); b <= Math.min(near.length - 1, block + 1); b++) {
      if (planes.ready[b] === 0) planes.materialise(b);
    }
    near[block] = 1;
  }

  /** Materialises the slab of brick `brick` and the slabs either side; flags the slab's bricks. */
  private materialiseSlabsNear(brick: number, bricks: BrickLayout, obstacles: BrickObstacles): void {
    const perSlab = bricks.b1 * bricks.b2;
    const slab = Math.floor(brick / perSlab);
    for (let s = Math.max(0, slab - 1); s <= Math.min(bricks.b0 - 1, slab + 1); s++) {
      if (obstacles.ready[s] === 0) obstacles.materialise(s);
    }
    this.near.fill(1, slab * perSlab, (slab + 1) * perSlab);
  }

  /** Records which neighbour of frontier cell `cell` (of `side`) belongs to the other side. */
  private recordMeeting(cell: number, side: number): void {
    this.meetSide = side;
    const neighbours = this.bricks === null ? neighboursOf(this.lattice, cell) : this.brickNeighbours(cell, this.bricks);
    this.meetTo = neighbours.find((nb) => {
      const state = this.stateOf(nb);
      return state.code !== 0 && state.bit !== side;
    })!;
  }

  /** The lattice neighbours of a cell in the brick layout, as brick indices. */
  private brickNeighbours(cell: number, bricks: BrickLayout): number[] {
    const out: number[] = [];
    for (let a = 2; a >= 0; a--) {
      for (const delta of [-1, 1]) {
        const nb = this.brickStep(cell, bricks, a, delta);
        if (nb >= 0) out.push(nb);
      }
    }
    return out;
  }

  /** The brick index one step along axis `axis` from `cell`, or -1 off the lattice. */
  private brickStep(cell: number, bricks: BrickLayout, axis: number, delta: number): number {
    const { coords } = this;
    bricks.coordsOf(cell, coords);
    const x = coords[axis]! + delta;
    const side = axis === 0 ? bricks.n0 : axis === 1 ? bricks.n1 : bricks.n2;
    if (x < 0 || x >= side) return -1;
    coords[axis] = x;
    return bricks.indexOf(coords[0]!, coords[1]!, coords[2]!);
  }

  /** Layer code and side bit of a cell. */
  private stateOf(cell: number): { code: number; bit: number } {
    const word = cell >>> 5;
    const shift = cell & 31;
    return {
      code: ((this.codes[2 * word]! >>> shift) & 1) | (((this.codes[2 * word + 1]! >>> shift) & 1) << 1),
      bit: (this.marks[word]! >>> shift) & 1,
    };
  }

  /**
   * The path through the meeting: `side` stepped from one of its frontier cells onto `to`, a
   * frontier cell of the other side (no earlier layer of it can touch this side's frontier, or
   * the sides would have met a round before). Each half walks back to its seed through same-side
   * neighbours one layer lower, which layer mod 3 tells apart.
   */
  private walkBack(side: number, to: number): Uint32Array {
    const from = this.neighbourWith(to, (this.layersDone[side]! % 3) + 1, side);
    if (from < 0) throw new Error(`path walk-back found no frontier cell next to ${to}`);
    const fromHalf = this.walkToSeed(from, side);
    const toHalf = this.walkToSeed(to, 1 - side);
    const startHalf = side === 0 ? fromHalf : toHalf;
    const endHalf = side === 0 ? toHalf : fromHalf;
    return joinHalves(startHalf, endHalf);
  }

  /** The cells from `cell` back to its side's seed, `cell` first. */
  private walkToSeed(cell: number, side: number): number[] {
    const seed = side === 0 ? this.startCell : this.endCell;
    const out = [cell];
    let current = cell;
    let code = this.stateOf(cell).code;
    while (current !== seed) {
      const want = code === 1 ? 3 : code - 1;
      const found = this.neighbourWith(current, want, side);
      if (found < 0) throw new Error(`path walk-back lost its way at cell ${current}`);
      out.push(found);
      current = found;
      code = want;
    }
    return out;
  }

  /**
   * The first neighbour of `cell` in neighboursOf's order (last axis first, the lower side
   * first) with layer code `code` on side `side`, or -1. Allocation-free: a walk takes a step
   * per path cell, and an array per step cost a tenth of a search.
   */
  private neighbourWith(cell: number, code: number, side: number): number {
    const { codes, marks, bricks } = this;
    if (bricks !== null) {
      for (let a = 2; a >= 0; a--) {
        for (let delta = -1; delta <= 1; delta += 2) {
          const nb = this.brickStep(cell, bricks, a, delta);
          if (nb >= 0 && hasCodeOnSide(codes, marks, nb, code, side)) return nb;
        }
      }
      return -1;
    }
    const { shape, strides, periodic } = this.lattice;
    let rest = cell;
    for (let a = shape.length - 1; a >= 0; a--) {
      const length = shape[a]!;
      const stride = strides[a]!;
      const quotient = Math.floor(rest / length);
      const x = rest - quotient * length;
      rest = quotient;
      const wraps = periodic[a] === true && length > 2;
      for (let k = 0; k < 2; k++) {
        const nb = k === 0 ? (x > 0 ? cell - stride : wraps ? cell + (length - 1) * stride : -1) : x < length - 1 ? cell + stride : wraps ? cell - (length - 1) * stride : -1;
        if (nb >= 0 && hasCodeOnSide(codes, marks, nb, code, side)) return nb;
      }
    }
    return -1;
  }
}

/** Whether `cell`'s 2-bit layer code (two bit planes, word-interleaved) is `code` and its side mark `side`. */
function hasCodeOnSide(codes: Int32Array, marks: Int32Array, cell: number, code: number, side: number): boolean {
  const word = cell >>> 5;
  const shift = cell & 31;
  const cellCode = ((codes[2 * word]! >>> shift) & 1) | (((codes[2 * word + 1]! >>> shift) & 1) << 1);
  return cellCode === code && ((marks[word]! >>> shift) & 1) === side;
}
