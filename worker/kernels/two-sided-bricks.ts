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
import { coordsOf, stepLowerBound } from '../../shared/lattice/geometry.ts';
import type { BfsOutcome } from './bidirectional-bfs.ts';
import { BrickLayout } from './brick-layout.ts';
import { BrickObstacles } from './brick-obstacles.ts';
import type { JobControl } from './job-control.ts';
import { joinHalves } from './path-result.ts';
import type { Meeting } from './two-sided-bfs.ts';
import { WASM_PAGE, compileWasm, instantiate, sharedWasmMemory, type SharedWasmMemory } from './wasm-runtime.ts';

interface BrickSideExports {
  expand(front: number, from: number, count: number, out: number, n: number, step1: number, step0: number, res: number, side: number, state: number): number;
  claim(out: number, n: number, contested: number, res: number, side: number, val: bigint, state: number): number;
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

/** Int32 slots of the sync block at address 0 (as two-sided-bfs.ts's). */
const STOP = 0;
const DONE = 1; // + side
const LAYERS = 3; // + side
const FINAL = 5; // + side
const BEST = 8; // + 4 side: sum (-1 none), u, v, visited
const SYNC_BYTES = 64;
/** Per thread region: results (res+0 cell at, +4 written, +8 contested), then the chunk lists. */
const HEADER = 16;
const MAX_PAGES = 32768;

const align = (bytes: number, to: number): number => Math.ceil(bytes / to) * to;

interface Layout {
  regions: [number, number];
  fronts: [number, number];
  outs: [number, number];
  contested: [number, number];
  state: number;
  total: number;
}

function layoutOf(bricks: BrickLayout, chunk: number): Layout {
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

/** Nibbles of 8 cells (3, blocked, per set bit) by the byte of their blocked bits. */
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

/** One side of the search in one thread; `step` expands a chunk. Cells are brick indices. */
export class BrickSearchSide {
  readonly sync: Int32Array;
  /** The state as 32-bit words: cell c is nibble c & 7 of word c >> 3. */
  readonly words: Int32Array;
  private readonly exports: BrickSideExports;
  private readonly layout: Layout;
  private readonly front: Int32Array;
  private readonly out: Int32Array;
  private readonly results: Int32Array;
  private readonly contested: Int32Array;
  private readonly coords = new Int32Array(3);
  private fronts = new CellList();
  private next = new CellList();
  /** Frontier cells (of the layer being expanded) that had a neighbour of the other side. */
  readonly meetings: number[] = [];
  readonly startCell: number;
  readonly endCell: number;
  layers = 0;
  visited = 1;
  private from = 0;
  private grown = 0;
  /** Cells listed by the last `step`, waiting for their claims; -1 none. */
  private listed = -1;
  finished = false;

  constructor(
    memory: SharedWasmMemory,
    private readonly lattice: Lattice,
    readonly bricks: BrickLayout,
    private readonly start: number,
    private readonly end: number,
    readonly side: 0 | 1,
    private readonly chunk = BRICKS_CHUNK,
  ) {
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

  /** Private bytes: the two frontier lists at their largest. */
  get bytes(): number {
    return this.fronts.data.byteLength + this.next.data.byteLength;
  }

  /**
   * Writes the state of half `part` of the slabs (8 planes of axis 0; part 0 the first half):
   * each slab's blocked bits into a one-slab scratch plane (brick-obstacles.ts), spread to
   * nibbles. A slab is whole words, so the two halves may run at once in the two threads.
   */
  materialise(part: 0 | 1, checkpoint: () => void = () => undefined): void {
    const { bricks, words } = this;
    const slabWords = bricks.step0 / 8;
    const scratch = new Int32Array(slabWords / 4);
    const bytes = new Uint8Array(scratch.buffer);
    const obstacles = new BrickObstacles(scratch, this.lattice, bricks, [this.start, this.end]);
    const mid = Math.ceil(bricks.b0 / 2);
    for (let slab = part === 0 ? 0 : mid; slab < (part === 0 ? mid : bricks.b0); slab++) {
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

  /** The nibble of a cell. */
  nibble(cell: number): number {
    return (Atomics.load(this.words, cell >>> 3) >>> (4 * (cell & 7))) & 15;
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
    const { sync, side, bricks, layout } = this;
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
    const count = Math.min(this.chunk, front.length - this.from);
    this.front.set(front.data.subarray(this.from, this.from + count));
    let at = 0;
    let written = 0;
    for (;;) {
      const status = this.exports.expand(layout.fronts[side], at, count, layout.outs[side], written, bricks.step1, bricks.step0, layout.regions[side], side, layout.state);
      written = this.results[1]!;
      if (status === 0) break;
      at = this.results[0]!;
      this.meetings.push(this.front[at]!);
      Atomics.store(sync, STOP, 1);
      at++;
    }
    this.listed = written;
    this.from += count;
    return false;
  }

  /** Claims the cells the last listing found; at the chunk's end of the layer, the next layer begins. */
  private claimListed(): void {
    const { sync, side, layout } = this;
    const code = ((this.layers + 1) % 3) + 1;
    const val = BigInt((1 << side) | (code << 2));
    // A cell the other side claimed between the listing and the claim is a meeting too,
    // recorded as this side's frontier cell next to it.
    const written = this.exports.claim(layout.outs[side], this.listed, layout.contested[side], layout.regions[side], side, val, layout.state);
    this.listed = -1;
    const contested = this.results[2]!;
    if (contested > 0) {
      const ours = (1 << side) | (((this.layers % 3) + 1) << 2);
      for (let k = 0; k < contested; k++) {
        const u = this.neighbours(this.contested[k]!).find((nb) => this.nibble(nb) === ours)!;
        this.meetings.push(u);
      }
      Atomics.store(sync, STOP, 1);
    }
    const next = this.next;
    next.reserve(written).set(this.out.subarray(0, written), next.length);
    next.length += written;
    this.grown += written;
    const front = this.fronts;
    if (this.from >= front.length) {
      this.from = 0;
      this.fronts = next;
      this.next = front;
      this.layers++;
      this.visited += this.grown;
      Atomics.store(sync, LAYERS + side, this.layers);
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
      for (const v of this.neighbours(u)) {
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

  /** The cells from `cell` back to side `side`'s seed, `cell` first (brick indices). */
  walkToSeed(cell: number, side: number): number[] {
    const seed = side === 0 ? this.startCell : this.endCell;
    const out = [cell];
    let current = cell;
    let code = this.nibble(cell) >>> 2;
    while (current !== seed) {
      const want = code === 1 ? 3 : code - 1;
      const nibble = (1 << side) | (want << 2);
      const found = this.neighbours(current).find((nb) => this.nibble(nb) === nibble);
      if (found === undefined) throw new Error(`path walk-back lost its way at cell ${current}`);
      out.push(found);
      current = found;
      code = want;
    }
    return out;
  }
}

/** The answer from both sides' best meetings and visited counts: the path in row-major indices. */
function answer(side: BrickSearchSide, meetings: [Meeting | null, Meeting | null], visited: number): BfsOutcome {
  const [m0, m1] = meetings;
  const pick = m0 !== null && (m1 === null || m0.sum <= m1.sum) ? 0 : m1 !== null ? 1 : -1;
  if (pick < 0) return { reachable: false, path: new Uint32Array(0), length: null, visited };
  const meeting = pick === 0 ? m0! : m1!;
  const uHalf = side.walkToSeed(meeting.u, pick);
  const vHalf = side.walkToSeed(meeting.v, 1 - pick);
  const scratch = new Int32Array(3);
  const rowMajor = (half: number[]): number[] => half.map((cell) => side.bricks.toRowMajor(cell, scratch));
  const path = pick === 0 ? joinHalves(rowMajor(uHalf), rowMajor(vHalf)) : joinHalves(rowMajor(vHalf), rowMajor(uHalf));
  return { reachable: true, path, length: path.length - 1, visited };
}

/** What a thread's task carries (task.ts's TwoSidedBfsTask with `bricks` set). */
export interface TwoSidedBricksTaskInput {
  lattice: Lattice;
  start: number;
  end: number;
  side: 0 | 1;
  memory: SharedWasmMemory;
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

/**
 * One side's thread. Side 0 returns the outcome; side 1 returns null (its best meeting and
 * visited count go to side 0 through the sync block).
 */
export function twoSidedBricksThread(task: TwoSidedBricksTaskInput, control: JobControl): { outcome: BfsOutcome | null; bytes: number; build_ms: number } {
  const buildStarted = performance.now();
  const { lattice, start, end, side: s, memory } = task;
  const bricks = BrickLayout.of(lattice, Infinity)!;
  const side = new BrickSearchSide(memory, lattice, bricks, start, end, s);
  side.materialise(s, () => control.checkpoint());
  control.barrier();
  if (s === 0) side.seedBoth();
  control.barrier();
  const build_ms = performance.now() - buildStarted;
  const bound = Math.max(1, stepLowerBound(lattice, coordsOf(lattice, start), coordsOf(lattice, end)));
  const { sync } = side;
  let chunks = 0;
  while (!side.step()) {
    control.checkpoint();
    if (s === 0 && (chunks++ & 15) === 0) {
      const layers = side.layers + Atomics.load(sync, LAYERS + 1);
      control.publishProgress(0.99 * Math.min(1, Math.max(layers / bound, (2 * side.visited) / lattice.cells)));
    }
  }
  const other = 1 - s;
  waitFor(sync, DONE + other, control);
  const best = side.best(Atomics.load(sync, LAYERS + other));
  sync[BEST + 4 * s] = best?.sum ?? -1;
  sync[BEST + 4 * s + 1] = best?.u ?? 0;
  sync[BEST + 4 * s + 2] = best?.v ?? 0;
  sync[BEST + 4 * s + 3] = side.visited;
  Atomics.store(sync, FINAL + s, 1);
  Atomics.notify(sync, FINAL + s);
  if (s === 1) return { outcome: null, bytes: side.bytes, build_ms };
  waitFor(sync, FINAL + 1, control);
  const theirs = sync[BEST + 4] === -1 ? null : { sum: sync[BEST + 4]!, u: sync[BEST + 5]!, v: sync[BEST + 6]! };
  const outcome = answer(side, [best, theirs], side.visited + sync[BEST + 7]!);
  return { outcome, bytes: side.bytes, build_ms };
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
  const sides = [new BrickSearchSide(memory, lattice, bricks, start, end, 0, chunk), new BrickSearchSide(memory, lattice, bricks, start, end, 1, chunk)] as const;
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
