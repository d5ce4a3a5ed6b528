/**
 * What the two two-thread searches share: rows (two-sided-bfs.ts) and bricks
 * (two-sided-bricks.ts) differ in how a side expands a chunk and where cells lie; the sync block,
 * the frontier lists, the meeting rule (two-sided-bfs.ts's header proves it), the walk back to
 * the seeds and the drivers (one thread per side, or both stepped in one thread) are the same.
 */
import type { Lattice } from '../../shared/lattice/types.ts';
import { coordsOf, stepLowerBound } from '../../shared/lattice/geometry.ts';
import type { BfsOutcome } from './bidirectional-bfs.ts';
import type { JobControl } from './job-control.ts';
import { type DiveOutcome, lowerBoundDive } from './lower-bound-dive.ts';
import { joinHalves } from './path-result.ts';

/** Int32 slots of the sync block at address 0 (two-sided-bfs.ts adds ACK). */
export const STOP = 0;
export const DONE = 1; // + side
export const LAYERS = 3; // + side
export const FINAL = 5; // + side
export const BEST = 8; // + 4 side: sum (-1 none), u, v, visited
/** Materialising: pieces claimed (low 16 bits) and done (+ 1 once seeded) (high bits); see runTwoSidedThread. */
const PIECES_SLOT = 7;
/** Pieces the obstacles are materialised in, claimed by whichever thread is free. */
export const MATERIALISE_PIECES = 16;

/** Chunks [from, to) of piece `piece` of `pieces` of `chunks` (halves: [0, ⌈chunks/2⌉), [⌈chunks/2⌉, chunks)). */
export function pieceOf(chunks: number, piece: number, pieces: number): [number, number] {
  return [Math.ceil((chunks * piece) / pieces), Math.ceil((chunks * (piece + 1)) / pieces)];
}

export const align = (bytes: number, to: number): number => Math.ceil(bytes / to) * to;

/** Byte addresses in the shared memory: per side its region (results first), front, out and contested lists; the state; the end. */
export interface SidesLayout {
  regions: [number, number];
  fronts: [number, number];
  outs: [number, number];
  contested: [number, number];
  state: number;
  total: number;
}

/** Nibbles of 8 cells (3, blocked, per set bit) by the byte of their blocked bits. */
export const SPREAD = (() => {
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

/** Below this many cells a copy is a loop: a `subarray` view per chunk is garbage, and thousands of small layers a search made it scavenge every other run. */
const COPY_LOOP_CELLS = 256;

/** Copies `count` cells from `from[at..]` to `to[into..]`. */
function copyCells(from: Int32Array, at: number, to: Int32Array, into: number, count: number): void {
  if (count >= COPY_LOOP_CELLS) {
    to.set(from.subarray(at, at + count), into);
    return;
  }
  for (let k = 0; k < count; k++) to[into + k] = from[at + k]!;
}

/** The best meeting a side recorded: length, its cell and the other side's neighbour. */
export interface Meeting {
  sum: number;
  u: number;
  v: number;
}

/**
 * One side of the search in one thread; `step` expands (part of) a chunk. The state is a nibble
 * a cell in `words` (cell c is nibble c & 7 of word c >> 3); the wasm writes a chunk's results
 * (+0 cell at, +4 written, +8 contested) to `results` and its lists to `front`, `out`, `contested`.
 */
export abstract class TwoSidedSide {
  abstract readonly sync: Int32Array;
  abstract readonly words: Int32Array;
  abstract readonly side: 0 | 1;
  protected abstract readonly chunk: number;
  protected abstract readonly front: Int32Array;
  protected abstract readonly out: Int32Array;
  protected abstract readonly results: Int32Array;
  protected abstract readonly contested: Int32Array;
  protected fronts = new CellList();
  private next = new CellList();
  /** Frontier cells (of the layer being expanded) that had a neighbour of the other side. */
  readonly meetings: number[] = [];
  layers = 0;
  visited = 1;
  protected from = 0;
  private grown = 0;
  finished = false;

  /** Expands one chunk (or half of one); true once this side has stopped. */
  abstract step(): boolean;
  /** Writes the state of half `part` of the lattice (the two halves may run at once in two threads; benches and tests). */
  materialise(part: 0 | 1, checkpoint: () => void = () => undefined): void {
    this.materialisePiece(part, 2, checkpoint);
  }
  /** Writes piece `piece` of `pieces` of the state (halves when `pieces` is 2; any pieces may run at once in two threads). */
  abstract materialisePiece(piece: number, pieces: number, checkpoint?: () => void): void;
  /** Claims both seeds (before either side searches). */
  abstract seedBoth(): void;
  /** The neighbours of a cell, in this side's cell indices. */
  abstract neighbours(cell: number): number[];
  /** Side `side`'s seed, in this side's cell indices. */
  protected abstract seed(side: number): number;

  /** A half path (this side's cell indices) as lattice cells; the same by default. */
  latticeCells(half: number[]): number[] {
    return half;
  }

  /** Whether the side waits for the other before its next step (two-sided-bfs.ts's plain claims). */
  get waiting(): boolean {
    return false;
  }

  /** Waits for the other side (when `waiting`). */
  awaitOther(checkpoint: () => void): void {
    void checkpoint;
  }

  /** Private bytes: the two frontier lists at their largest. */
  get bytes(): number {
    return this.fronts.data.byteLength + this.next.data.byteLength;
  }

  /** The nibble of a cell. */
  nibble(cell: number): number {
    return (Atomics.load(this.words, cell >>> 3) >>> (4 * (cell & 7))) & 15;
  }

  /** Before a layer's first chunk: true (stopped) once STOP is up or the front is empty, else the next layer's list starts. */
  protected stopsBeforeLayer(): boolean {
    if (this.from !== 0) return false;
    const { sync } = this;
    if (Atomics.load(sync, STOP) !== 0) return this.stop();
    if (this.fronts.length === 0) {
      Atomics.store(sync, STOP, 1);
      return this.stop();
    }
    this.grown = 0;
    this.next.length = 0;
    return false;
  }

  /** Copies the next chunk of the front to the wasm's list; returns its cells. */
  protected listChunk(): number {
    const front = this.fronts;
    const count = Math.min(this.chunk, front.length - this.from);
    copyCells(front.data, this.from, this.front, 0, count);
    return count;
  }

  /** Runs `expand` (from chunk cell `at`, `written` listed) until it ends the chunk, recording each meeting it stops at; returns the cells listed. */
  protected expandRecording(expand: (at: number, written: number) => number): number {
    let at = 0;
    let written = 0;
    for (;;) {
      const status = expand(at, written);
      written = this.results[1]!;
      if (status === 0) return written;
      at = this.results[0]!;
      this.recordMeeting(at);
      at++;
    }
  }

  /** Chunk cell `at` has a neighbour of the other side: recorded, and both sides stop after this layer. */
  protected recordMeeting(at: number): void {
    this.meetings.push(this.front[at]!);
    Atomics.store(this.sync, STOP, 1);
  }

  /**
   * The `count` cells the other side claimed between the listing and the claim are meetings too,
   * recorded as this side's frontier cell next to each.
   */
  protected recordContested(count: number): void {
    if (count === 0) return;
    const ours = (1 << this.side) | (((this.layers % 3) + 1) << 2);
    for (let k = 0; k < count; k++) {
      const u = this.neighbours(this.contested[k]!).find((nb) => this.nibble(nb) === ours)!;
      this.meetings.push(u);
    }
    Atomics.store(this.sync, STOP, 1);
  }

  /** A chunk's `done` front cells expanded, `written` cells claimed: onto the next layer, which begins at the layer's end. */
  protected endChunk(written: number, done: number): void {
    const next = this.next;
    copyCells(this.out, 0, next.reserve(written), next.length, written);
    next.length += written;
    this.grown += written;
    this.from += done;
    const front = this.fronts;
    if (this.from >= front.length) {
      this.from = 0;
      this.fronts = next;
      this.next = front;
      this.layers++;
      this.visited += this.grown;
      Atomics.store(this.sync, LAYERS + this.side, this.layers);
    }
  }

  /**
   * Stops this side before its first step: side 0's dive found the answer, so side 1 stops at its
   * next layer (STOP) and finds this side done.
   */
  standDown(): void {
    Atomics.store(this.sync, STOP, 1);
    this.stop();
  }

  protected stop(): true {
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

  /** The first of `cell`'s neighbours (in `neighbours` order) whose nibble is `nibble`, or -1; sides may find it without a list. */
  protected neighbourWith(cell: number, nibble: number): number {
    return this.neighbours(cell).find((nb) => this.nibble(nb) === nibble) ?? -1;
  }

  /** The cells from `cell` back to side `side`'s seed, `cell` first. */
  walkToSeed(cell: number, side: number): number[] {
    const seed = this.seed(side);
    const out = [cell];
    let current = cell;
    let code = this.nibble(cell) >>> 2;
    while (current !== seed) {
      const want = code === 1 ? 3 : code - 1;
      const nibble = (1 << side) | (want << 2);
      const found = this.neighbourWith(current, nibble);
      if (found < 0) throw new Error(`path walk-back lost its way at cell ${current}`);
      out.push(found);
      current = found;
      code = want;
    }
    return out;
  }
}

/** The answer from both sides' best meetings and visited counts: the path in lattice cells. */
function answer(side: TwoSidedSide, meetings: [Meeting | null, Meeting | null], visited: number): BfsOutcome {
  const [m0, m1] = meetings;
  const pick = m0 !== null && (m1 === null || m0.sum <= m1.sum) ? 0 : m1 !== null ? 1 : -1;
  if (pick < 0) return { reachable: false, path: new Uint32Array(0), length: null, visited };
  const meeting = pick === 0 ? m0! : m1!;
  const uHalf = side.latticeCells(side.walkToSeed(meeting.u, pick));
  const vHalf = side.latticeCells(side.walkToSeed(meeting.v, 1 - pick));
  const path = pick === 0 ? joinHalves(uHalf, vHalf) : joinHalves(vHalf, uHalf);
  return { reachable: true, path, length: path.length - 1, visited };
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
 * Both threads take pieces of the obstacles until none is left; the one that finishes the last
 * piece seeds both sides. No barrier: a thread that starts late (its core busy, ~2-8 ms through
 * the API at load) finds the pieces done and the seeds claimed, and the other has searched meanwhile
 * (the meeting rule holds for any interleaving, one side searching alone included).
 */
export function materialiseShared(side: TwoSidedSide, control: JobControl): void {
  const { sync } = side;
  const checkpoint = (): void => control.checkpoint();
  for (;;) {
    const piece = Atomics.add(sync, PIECES_SLOT, 1) & 0xffff;
    if (piece >= MATERIALISE_PIECES) return;
    side.materialisePiece(piece, MATERIALISE_PIECES, checkpoint);
    // The atomic add orders this piece's stores before the seeding that follows the last one.
    if (Atomics.add(sync, PIECES_SLOT, 1 << 16) >>> 16 === MATERIALISE_PIECES - 1) {
      side.seedBoth();
      Atomics.add(sync, PIECES_SLOT, 1 << 16);
      Atomics.notify(sync, PIECES_SLOT);
    }
  }
}

/** Waits until every piece is materialised and the seeds claimed: polls first, then sleeps. */
export function awaitSeeded(sync: Int32Array, control: JobControl): void {
  let polled = 0;
  for (let now = Atomics.load(sync, PIECES_SLOT); now >>> 16 <= MATERIALISE_PIECES; now = Atomics.load(sync, PIECES_SLOT)) {
    if (polled++ < 4000) continue;
    control.checkpoint();
    Atomics.wait(sync, PIECES_SLOT, now, 1);
  }
}

/** Where a side's thread is (benches time the phases: bench/lattice/two-sided-direct.ts). */
export type TwoSidedPhase = 'materialised' | 'seeded' | 'searched' | 'waited' | 'met' | 'answered';

/** What a side's thread returns: side 0 the outcome (or its dive's path), side 1 null. */
export interface TwoSidedThreadResult {
  outcome: BfsOutcome | null;
  bytes: number;
  build_ms: number;
  /** Side 0's lower-bound dive, when it was asked for and found a path: the answer. */
  dive?: DiveOutcome;
}

/**
 * One side's thread, from the side made (at `buildStarted`) to the answer. Side 0 returns the
 * outcome; side 1 returns null (its best meeting and visited count go to side 0 through the sync block).
 */
export function runTwoSidedThread(
  side: TwoSidedSide,
  lattice: Lattice,
  start: number,
  end: number,
  control: JobControl,
  buildStarted: number,
  mark: (phase: TwoSidedPhase) => void = () => undefined,
  diveBudget?: number,
): TwoSidedThreadResult {
  const s = side.side;
  materialiseShared(side, control);
  mark('materialised');
  awaitSeeded(side.sync, control);
  mark('seeded');
  const build_ms = performance.now() - buildStarted;
  if (s === 0 && diveBudget !== undefined) {
    // The lower-bound dive runs while side 1 already searches alone (the meeting rule holds for
    // any interleaving): on a lattice with no lower-bound path its budget costs no wall time.
    const dive = lowerBoundDive({ kind: 'dive', control: control.buffers, lattice, start, end, budget: diveBudget }, control);
    if (dive.path !== null) {
      side.standDown();
      return { outcome: null, bytes: side.bytes + dive.bytes, build_ms, dive };
    }
  }
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
 * interleavings two threads could produce.
 */
export function interleaveSides(sides: readonly [TwoSidedSide, TwoSidedSide], pick: () => 0 | 1): BfsOutcome {
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
