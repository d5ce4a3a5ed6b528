/**
 * Bidirectional breadth-first search, frontier-parallel across slabs (DESIGN.md §2).
 *
 * State is 3 bits per cell in two shared arrays per slab: `layers` holds 0 for an unreached
 * cell, else 1 + (BFS layer mod 3); `marks` holds 1 for a cell reached from the end side, and
 * for a blocked cell (layers 0). Layer mod 3 is enough to walk a path back: a reached cell's
 * same-side neighbours lie one layer below, on, or above it, three distinct residues.
 * Procedural obstacles are hashed the first time a search touches a cell, never stored ahead.
 *
 * Each round expands the smaller side's frontier by one layer. A slab thread expands its own
 * frontier cells; a step that leaves the slab goes into a face-sized outbox for the neighbour
 * slab, which applies it after a barrier. The first round to step onto a cell of the other side
 * fixes the length at kS + kE + 1 (the sides' visited sets were disjoint before that round).
 */
import type { Lattice } from '../../shared/lattice/types.ts';
import { coordsOf, neighboursOf, stepLowerBound } from '../../shared/lattice/geometry.ts';
import { lowbias32 } from '../../shared/lattice/lowbias32.ts';
import { presetExplicitObstacles } from '../../shared/lattice/bit-slab.ts';
import { slabOf } from '../../shared/lattice/slabs.ts';
import { CellQueue } from './cell-queue.ts';
import type { JobControl } from './job-control.ts';
import { rowFlags } from './row-flags.ts';
import type { RowFlags } from './row-flags.ts';
import type { BfsTask } from './task.ts';

/** Per-slab float slots. */
const FRONT_START = 0;
const FRONT_END = 1;
const OUT_DOWN = 2;
const OUT_UP = 3;
const VISITED = 4;
/** Shared float slots recording the meeting. */
const MEET_FROM = 0;
const MEET_TO = 1;
const MEET_SIDE = 2;

/** Frontier cells expanded between two cancel checks. */
const CHECK_EVERY = 4096;

/** What the leader thread (slab 0) returns. */
export interface BfsOutcome {
  reachable: boolean;
  /** Path cells, start to end; empty when unreachable. */
  path: number[];
  length: number | null;
  visited: number;
}

/** What a slab thread returns. */
export interface BfsSlabOutcome {
  outcome: BfsOutcome | null;
  bytes: number;
  build_ms: number;
}

/**
 * Runs one slab of the search. Every slab thread of the run calls it; slab 0 also walks the
 * path back and returns the outcome.
 */
export function bidirectionalBfsSlab(task: BfsTask, control: JobControl): BfsSlabOutcome {
  const buildStarted = performance.now();
  const search = new SlabSearch(task, control);
  const build_ms = performance.now() - buildStarted;
  const outcome = search.run();
  return { outcome, bytes: search.bytes, build_ms };
}

class SlabSearch {
  private readonly lattice: Lattice;
  private readonly me: number;
  private readonly slabCount: number;
  private readonly lo: number;
  private readonly rows: number;
  private readonly row0: number;
  private readonly row1: number;
  private readonly rowCells: number;
  private readonly marks: Int32Array;
  private readonly layers: Int32Array;
  private readonly outbox: Uint32Array | null;
  private readonly shape: Float64Array;
  private readonly strides: Float64Array;
  private readonly wrap: boolean;
  /** Per axis, 1 when a step off its faces wraps round (periodic, side above 2). */
  private readonly wrapAxis: Uint8Array;
  private readonly flags: RowFlags;
  /** Scratch: the in-slab neighbours of the cell being expanded. */
  private readonly steps: Float64Array;
  private readonly procedural: boolean;
  private readonly threshold: number;
  private readonly offset: number;
  private frontStart = new CellQueue();
  private frontEnd = new CellQueue();
  private next = new CellQueue();
  private outDown = 0;
  private outUp = 0;
  private peakQueueBytes = 0;
  /** Set during a round: the layer code to write, the side's mark bit, and whether we met. */
  private code = 0;
  private sideBit = 0;
  private met = false;
  /** Rounds started, from 1: the tag of a meeting claim. */
  private round = 0;

  constructor(
    private readonly task: BfsTask,
    private readonly control: JobControl,
  ) {
    const { lattice, slabs, slab } = task;
    const own = slabs[slab]!;
    this.lattice = lattice;
    this.me = slab;
    this.slabCount = slabs.length;
    this.lo = own.lo;
    this.rows = own.rows;
    this.row0 = own.row0;
    this.row1 = own.row1;
    this.rowCells = lattice.strides[0]!;
    this.marks = new Int32Array(task.buffers.marks[slab]!);
    this.layers = new Int32Array(task.buffers.layers[slab]!);
    this.outbox = task.buffers.outboxes ? new Uint32Array(task.buffers.outboxes[slab]!) : null;
    this.shape = Float64Array.from(lattice.shape);
    this.strides = Float64Array.from(lattice.strides);
    this.wrap = lattice.boundary === 'periodic';
    this.steps = new Float64Array(2 * lattice.dimensions);
    this.wrapAxis = Uint8Array.from(lattice.shape, (side) => (this.wrap && side > 2 ? 1 : 0));
    this.flags = rowFlags(lattice);
    const { obstacles } = lattice;
    this.procedural = obstacles.kind === 'procedural';
    this.threshold = obstacles.kind === 'procedural' ? obstacles.threshold : 0;
    this.offset = obstacles.kind === 'procedural' ? obstacles.offset : 0;
    if (obstacles.kind === 'explicit') {
      presetExplicitObstacles(this.marks, own, obstacles.blocked, [task.start, task.end]);
    }
  }

  /** Private memory: the largest the three frontier queues held together, and the row table. */
  get bytes(): number {
    return Math.max(this.peakQueueBytes, this.queueBytes()) + this.flags.byteLength + this.steps.byteLength;
  }

  private queueBytes(): number {
    return this.frontStart.bytes + this.frontEnd.bytes + this.next.bytes;
  }

  run(): BfsOutcome | null {
    const { control, task, me } = this;
    const floats = control.floats;
    // Layer 0 of each side: its own cell, code 1; the end side also sets its mark bit.
    if (this.owns(task.start)) this.seed(task.start, 0, this.frontStart);
    if (this.owns(task.end)) this.seed(task.end, 1, this.frontEnd);
    floats[control.slabSlot(me, FRONT_START)] = this.frontStart.length;
    floats[control.slabSlot(me, FRONT_END)] = this.frontEnd.length;
    floats[control.slabSlot(me, VISITED)] = this.frontStart.length + this.frontEnd.length;
    control.barrier();

    const bound = Math.max(1, stepLowerBound(this.lattice, coordsOf(this.lattice, task.start), coordsOf(this.lattice, task.end)));
    const layersDone = [0, 0];
    for (;;) {
      const totalStart = control.sumSlabs(FRONT_START);
      const totalEnd = control.sumSlabs(FRONT_END);
      if (totalStart === 0 || totalEnd === 0) break;
      // Every thread reads the same totals, so every thread picks the same side.
      const side = totalStart <= totalEnd ? 0 : 1;
      const layer = layersDone[side]!;
      this.round++;
      this.code = ((layer + 1) % 3) + 1;
      this.sideBit = side;
      this.next.clear();
      this.outDown = 0;
      this.outUp = 0;
      this.expand(side === 0 ? this.frontStart : this.frontEnd);
      floats[control.slabSlot(me, OUT_DOWN)] = this.outDown;
      floats[control.slabSlot(me, OUT_UP)] = this.outUp;
      control.barrier();
      if (this.slabCount > 1 && !control.claimedBy(this.round)) this.receive();
      this.peakQueueBytes = Math.max(this.peakQueueBytes, this.queueBytes());
      const grown = this.next;
      this.next = side === 0 ? this.frontStart : this.frontEnd;
      if (side === 0) this.frontStart = grown;
      else this.frontEnd = grown;
      floats[control.slabSlot(me, side === 0 ? FRONT_START : FRONT_END)] = grown.length;
      floats[control.slabSlot(me, VISITED)]! += grown.length;
      control.barrier();
      layersDone[side]!++;
      if (control.claimedBy(this.round)) break;
      if (me === 0) {
        const reached = (layersDone[0]! + layersDone[1]!) / bound;
        control.publishProgress(0.99 * Math.min(1, Math.max(reached, control.sumSlabs(VISITED) / this.lattice.cells)));
      }
    }
    if (me !== 0) return null;
    const visited = control.sumSlabs(VISITED);
    if (!control.claimedBy(this.round)) return { reachable: false, path: [], length: null, visited };
    const path = this.walkBack(floats[MEET_FROM]!, floats[MEET_TO]!, floats[MEET_SIDE]!);
    return { reachable: true, path, length: path.length - 1, visited };
  }

  private owns(cell: number): boolean {
    return cell >= this.lo && cell < this.lo + this.rows * this.rowCells;
  }

  private seed(cell: number, sideBit: number, front: CellQueue): void {
    const local = cell - this.lo;
    this.layers[local >>> 4]! |= 1 << ((local & 15) << 1);
    if (sideBit === 1) this.marks[local >>> 5]! |= 1 << (local & 31);
    else this.marks[local >>> 5]! &= ~(1 << (local & 31));
    front.push(local);
  }

  /** Expands one layer of this slab's frontier. */
  private expand(front: CellQueue): void {
    const { shape, strides, wrap, wrapAxis, flags, lo, rowCells, control, layers, marks, procedural, threshold, offset, code, sideBit } = this;
    const d = shape.length;
    const rows = this.rows;
    const row0 = this.row0;
    const sideCount = shape[0]!;
    const single = this.slabCount === 1;
    const outbox = this.outbox;
    const next = this.next;
    const steps = this.steps;
    const cells = front.data;
    const size = front.length;
    for (let f = 0; f < size; f++) {
      if (f % CHECK_EVERY === 0) {
        control.checkpoint();
        if (control.claimedBy(this.round)) return;
      }
      const local = cells[f]!;
      const global = lo + local;
      // Collect the in-slab neighbours first, so the visit below is written (and inlined) once.
      // One division finds the row; the row table says which faces the cell touches.
      const row = Math.floor(local / rowCells);
      const faces = flags[local - row * rowCells]!;
      let count = 0;
      for (let a = 1; a < d; a++) {
        const stride = strides[a]!;
        const at = faces >> (2 * (a - 1));
        if ((at & 1) === 0) steps[count++] = local - stride;
        else if (wrapAxis[a] === 1) steps[count++] = local + (shape[a]! - 1) * stride;
        if ((at & 2) === 0) steps[count++] = local + stride;
        else if (wrapAxis[a] === 1) steps[count++] = local - (shape[a]! - 1) * stride;
      }
      // Axis 0. Steps out of the slab go to the neighbour slab's outbox, as the offset in the row.
      const globalRow = row0 + row;
      if (row > 0) steps[count++] = local - rowCells;
      else if (globalRow > 0 || (wrap && sideCount > 2)) {
        if (single) steps[count++] = local + (sideCount - 1) * rowCells;
        else outbox![this.outDown++] = local;
      }
      if (row < rows - 1) steps[count++] = local + rowCells;
      else if (globalRow < sideCount - 1 || (wrap && sideCount > 2)) {
        if (single) steps[count++] = local - (sideCount - 1) * rowCells;
        else outbox![rowCells + this.outUp++] = local - row * rowCells;
      }
      for (let k = 0; k < count; k++) {
        const cell = steps[k]!;
        const word = cell >>> 4;
        const shift = (cell & 15) << 1;
        const markWord = cell >>> 5;
        const bit = 1 << (cell & 31);
        if (((layers[word]! >>> shift) & 3) === 0) {
          if ((marks[markWord]! & bit) !== 0) continue; // blocked
          if (procedural && lowbias32((lo + cell + offset) >>> 0) < threshold) {
            marks[markWord]! |= bit;
            continue;
          }
          layers[word]! |= code << shift;
          if (sideBit === 1) marks[markWord]! |= bit;
          next.push(cell);
        } else if (((marks[markWord]! >>> (cell & 31)) & 1) !== sideBit) {
          this.meet(global, lo + cell);
          return;
        }
      }
    }
  }

  /** Steps from `from` (global) onto local cell `cell` of this slab (a step handed over by a neighbour slab). */
  private visit(cell: number, from: number): void {
    const layers = this.layers;
    const word = cell >>> 4;
    const shift = (cell & 15) << 1;
    if (((layers[word]! >>> shift) & 3) === 0) {
      const marks = this.marks;
      const markWord = cell >>> 5;
      const bit = 1 << (cell & 31);
      if ((marks[markWord]! & bit) !== 0) return; // blocked
      if (this.procedural && lowbias32((this.lo + cell + this.offset) >>> 0) < this.threshold) {
        marks[markWord]! |= bit;
        return;
      }
      layers[word]! |= this.code << shift;
      if (this.sideBit === 1) marks[markWord]! |= bit;
      this.next.push(cell);
      return;
    }
    if (((this.marks[cell >>> 5]! >>> (cell & 31)) & 1) !== this.sideBit) this.meet(from, this.lo + cell);
  }

  private meet(from: number, to: number): void {
    this.met = true;
    const { control } = this;
    if (!control.claim(this.round)) return;
    control.floats[MEET_FROM] = from;
    control.floats[MEET_TO] = to;
    control.floats[MEET_SIDE] = this.sideBit;
  }

  /** Applies the steps the neighbour slabs handed to this one. */
  private receive(): void {
    const { control, me, slabCount, rowCells, wrap } = this;
    const sideCount = this.shape[0]!;
    const below = (me - 1 + slabCount) % slabCount;
    const above = (me + 1) % slabCount;
    const outboxes = this.task.buffers.outboxes!;
    if (me > 0 || wrap) {
      // The slab below stepped up into this slab's first row.
      const box = new Uint32Array(outboxes[below]!);
      const count = control.floats[control.slabSlot(below, OUT_UP)]!;
      const fromRow = this.row0 === 0 ? sideCount - 1 : this.row0 - 1;
      for (let i = 0; i < count && !this.met; i++) {
        const offset = box[rowCells + i]!;
        this.visit(offset, fromRow * rowCells + offset);
      }
    }
    if (me < slabCount - 1 || wrap) {
      // The slab above stepped down into this slab's last row.
      const box = new Uint32Array(outboxes[above]!);
      const count = control.floats[control.slabSlot(above, OUT_DOWN)]!;
      const fromRow = this.row1 === sideCount ? 0 : this.row1;
      const lastRow = (this.rows - 1) * rowCells;
      for (let i = 0; i < count && !this.met; i++) {
        const offset = box[i]!;
        this.visit(lastRow + offset, fromRow * rowCells + offset);
      }
    }
  }

  /**
   * The path through the meeting step `from → to`, where `from` was on the side that was
   * expanding (`side`) and `to` on the other. Each half is walked back to its own seed by
   * stepping to a same-side neighbour one layer lower.
   */
  private walkBack(from: number, to: number, side: number): number[] {
    const fromHalf = this.walkToSeed(from, side);
    const toHalf = this.walkToSeed(to, 1 - side);
    const startHalf = side === 0 ? fromHalf : toHalf;
    const endHalf = side === 0 ? toHalf : fromHalf;
    return [...startHalf.reverse(), ...endHalf];
  }

  /** The cells from `cell` back to its side's seed, `cell` first. */
  private walkToSeed(cell: number, side: number): number[] {
    const { lattice, task } = this;
    const slabs = task.slabs;
    const marks = task.buffers.marks.map((buffer) => new Int32Array(buffer));
    const layers = task.buffers.layers.map((buffer) => new Int32Array(buffer));
    const stateOf = (global: number): { code: number; bit: number } => {
      const slab = slabOf(slabs, lattice, global);
      const local = global - slab.lo;
      return {
        code: (layers[slab.index]![local >>> 4]! >>> ((local & 15) << 1)) & 3,
        bit: (marks[slab.index]![local >>> 5]! >>> (local & 31)) & 1,
      };
    };
    const seed = side === 0 ? task.start : task.end;
    const out = [cell];
    let current = cell;
    let code = stateOf(cell).code;
    while (current !== seed) {
      const want = code === 1 ? 3 : code - 1;
      let found = -1;
      for (const neighbour of neighboursOf(lattice, current)) {
        const state = stateOf(neighbour);
        if (state.code === want && state.bit === side) {
          found = neighbour;
          break;
        }
      }
      if (found < 0) throw new Error(`path walk-back lost its way at cell ${current}`);
      out.push(found);
      current = found;
      code = want;
    }
    return out;
  }
}
