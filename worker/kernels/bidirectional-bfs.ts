/**
 * Bidirectional breadth-first search, frontier-parallel across slabs: 3 bits of state per cell
 * (layer mod 3 in `layers`, reached-from-the-end or blocked in `marks`), steps that leave a slab
 * passed through a face-sized outbox after a barrier, and the meeting rounds that fix the length.
 * See docs/architecture.md › Kernels.
 */
import type { Lattice } from '../../shared/lattice/types.ts';
import { coordsOf, neighboursOf, stepLowerBound } from '../../shared/lattice/geometry.ts';
import { slabOf } from './slabs.ts';
import { CellQueue } from './cell-queue.ts';
import type { JobControl } from './job-control.ts';
import { FrontierOrder } from './frontier-order.ts';
import { ObstaclePlanes } from './obstacle-planes.ts';
import { rowFlags } from './row-flags.ts';
import type { RowFlags } from './row-flags.ts';
import type { BfsTask } from './task.ts';
import { joinHalves } from './path-result.ts';

/** Per-slab float slots. */
const FRONT_START = 0;
const FRONT_END = 1;
const VISITED = 2;
/** Steps handed down and up, by side. */
const OUT_DOWN_START = 3;
const OUT_DOWN_END = 4;
const OUT_UP_START = 5;
const OUT_UP_END = 6;
/** The slab's meeting in the last round: 0 none, else 1 + 4 · to + 2 · side + (kind - 1). */
const MEET = 7;

/** Meeting kinds: frontier onto the other frontier (kS + kE + 1), onto the other side's new layer (+2). */
const FRONTIER_MEETING = 1;
const NEW_LAYER_MEETING = 2;

/** Frontier cells expanded between two cancel checks. */
const CHECK_EVERY = 4096; // a power of 2

/** What the leader thread (slab 0) returns. */
export interface BfsOutcome {
  reachable: boolean;
  /** Path cells, start to end; empty when unreachable. */
  path: ArrayLike<number>;
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

/** The layer code (1 + layer mod 3) of a layer. */
function codeOf(layer: number): number {
  return (layer % 3) + 1;
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
  /** Strides of the inner axes 1..d-1. */
  private readonly innerStrides: Float64Array;
  /** Per inner axis, the step that wraps round from its first to its last cell (0 if it does not wrap). */
  private readonly innerWraps: Float64Array;
  /** Whether axis 0 wraps round (periodic, side above 2). */
  private readonly wrapRows: boolean;
  private readonly flags: RowFlags;
  private readonly planes: ObstaclePlanes;
  private readonly lazy: boolean;
  /** Scratch: the in-slab neighbours of the cell being expanded. */
  private readonly steps: Float64Array;
  private readonly order: FrontierOrder;
  private readonly fronts: [CellQueue, CellQueue] = [new CellQueue(), new CellQueue()];
  private readonly nexts: [CellQueue, CellQueue] = [new CellQueue(), new CellQueue()];
  private readonly layersDone = [0, 0];
  private peakQueueBytes = 0;
  /** Set during a round: the slab's meeting so far (kind, cell it stepped onto, stepping side). */
  private meetKind = 0;
  private meetTo = 0;
  private meetSide = 0;
  /** Whether the other side grows in this round too. */
  private bothGrow = false;
  /** Rounds started, from 1: the tag of a frontier-meeting claim. */
  private round = 0;
  /** Every slab's arrays, for the leader's walk back. */
  private allLayers: Int32Array[] | null = null;
  private allMarks: Int32Array[] | null = null;

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
    const wrap = lattice.boundary === 'periodic';
    this.innerStrides = Float64Array.from(lattice.strides.slice(1));
    this.innerWraps = Float64Array.from(lattice.shape.slice(1), (side, a) => (wrap && side > 2 ? (side - 1) * lattice.strides[a + 1]! : 0));
    this.wrapRows = wrap && lattice.shape[0]! > 2;
    this.flags = rowFlags(lattice);
    this.planes = new ObstaclePlanes(this.marks, lattice, own, [task.start, task.end]);
    this.lazy = lattice.obstacles.kind === 'procedural';
    this.steps = new Float64Array(2 * lattice.dimensions);
    this.order = new FrontierOrder(own.cells);
  }

  /** Private memory: the most the frontier queues and their sort held together, the row table and block flags. */
  get bytes(): number {
    return (
      Math.max(this.peakQueueBytes, this.queueBytes()) +
      this.flags.byteLength +
      this.planes.bytes +
      this.innerStrides.byteLength +
      this.innerWraps.byteLength +
      this.steps.byteLength +
      this.shape.byteLength
    );
  }

  private queueBytes(): number {
    // Arrays move between the queues and the sort's scratch, so count what each holds now.
    const queues = [...this.fronts, ...this.nexts].reduce((sum, queue) => sum + queue.data.byteLength, 0);
    return queues + this.order.bytes;
  }

  run(): BfsOutcome | null {
    const { control, task, me, fronts, layersDone } = this;
    const floats = control.floats;
    // Layer 0 of each side: its own cell, code 1; the end side also sets its mark bit.
    if (this.owns(task.start)) this.seed(task.start, 0);
    if (this.owns(task.end)) this.seed(task.end, 1);
    floats[control.slabSlot(me, FRONT_START)] = fronts[0].length;
    floats[control.slabSlot(me, FRONT_END)] = fronts[1].length;
    floats[control.slabSlot(me, VISITED)] = fronts[0].length + fronts[1].length;
    floats[control.slabSlot(me, MEET)] = 0;
    control.barrier();

    const bound = Math.max(1, stepLowerBound(this.lattice, coordsOf(this.lattice, task.start), coordsOf(this.lattice, task.end)));
    let meeting = false;
    let grew: [boolean, boolean] = [false, false];
    let before = [0, 0];
    for (;;) {
      const totalStart = control.sumSlabs(FRONT_START);
      const totalEnd = control.sumSlabs(FRONT_END);
      if (totalStart === 0 || totalEnd === 0) break;
      // Every thread reads the same numbers, so every thread makes the same choice.
      grew = this.sidesToGrow(totalStart, totalEnd);
      before = [layersDone[0]!, layersDone[1]!];
      this.round++;
      this.meetKind = 0;
      this.bothGrow = grew[0] && grew[1];
      const outs = [0, 0, 0, 0];
      for (let side = 0; side < 2; side++) {
        if (!grew[side]) continue;
        this.nexts[side]!.clear();
        this.expand(side, outs);
      }
      floats[control.slabSlot(me, OUT_DOWN_START)] = outs[0]!;
      floats[control.slabSlot(me, OUT_DOWN_END)] = outs[1]!;
      floats[control.slabSlot(me, OUT_UP_START)] = outs[2]!;
      floats[control.slabSlot(me, OUT_UP_END)] = outs[3]!;
      control.barrier();
      if (this.slabCount > 1 && !control.claimedBy(this.round)) this.receive(grew);
      this.peakQueueBytes = Math.max(this.peakQueueBytes, this.queueBytes());
      for (let side = 0; side < 2; side++) {
        if (!grew[side]) continue;
        const grown = this.nexts[side]!;
        this.nexts[side] = fronts[side]!;
        fronts[side] = grown;
        floats[control.slabSlot(me, side === 0 ? FRONT_START : FRONT_END)] = grown.length;
        floats[control.slabSlot(me, VISITED)]! += grown.length;
        layersDone[side]!++;
      }
      floats[control.slabSlot(me, MEET)] =
        this.meetKind === 0 ? 0 : 1 + 4 * this.meetTo + 2 * this.meetSide + (this.meetKind - 1);
      control.barrier();
      if (control.sumSlabs(MEET) > 0) {
        meeting = true;
        break;
      }
      if (me === 0) {
        const reached = (layersDone[0]! + layersDone[1]!) / bound;
        control.publishProgress(0.99 * Math.min(1, Math.max(reached, control.sumSlabs(VISITED) / this.lattice.cells)));
      }
    }
    if (me !== 0) return null;
    const visited = control.sumSlabs(VISITED);
    if (!meeting) return { reachable: false, path: [], length: null, visited };
    const path = this.walkBack(this.bestMeeting(), before);
    return { reachable: true, path, length: path.length - 1, visited };
  }

  /**
   * Which sides grow this round: the smaller one, or both when the slowest thread would do at
   * most twice the work of growing the smaller side alone (two layers for the price of one).
   */
  private sidesToGrow(totalStart: number, totalEnd: number): [boolean, boolean] {
    const small = totalStart <= totalEnd ? 0 : 1;
    const only: [boolean, boolean] = [small === 0, small === 1];
    if (this.slabCount === 1) return only;
    const { control } = this;
    let one = 0;
    let both = 0;
    for (let slab = 0; slab < this.slabCount; slab++) {
      const start = control.floats[control.slabSlot(slab, FRONT_START)]!;
      const end = control.floats[control.slabSlot(slab, FRONT_END)]!;
      one = Math.max(one, small === 0 ? start : end);
      both = Math.max(both, start + end);
    }
    return both <= 2 * one ? [true, true] : only;
  }

  /** The meeting the path goes through: a frontier meeting if any slab found one, lowest slab first. */
  private bestMeeting(): { to: number; side: number; kind: number } {
    const { control } = this;
    let best: { to: number; side: number; kind: number } | null = null;
    for (let slab = 0; slab < this.slabCount; slab++) {
      const value = control.floats[control.slabSlot(slab, MEET)]!;
      if (value === 0) continue;
      const code = value - 1;
      const kind = (code % 2) + 1;
      const side = Math.floor(code / 2) % 2;
      const to = Math.floor(code / 4);
      if (best === null || kind < best.kind) best = { to, side, kind };
    }
    return best!;
  }

  private owns(cell: number): boolean {
    return cell >= this.lo && cell < this.lo + this.rows * this.rowCells;
  }

  private seed(cell: number, side: number): void {
    const local = cell - this.lo;
    this.planes.ensureRow(Math.floor(local / this.rowCells));
    this.layers[local >>> 4]! |= 1 << ((local & 15) << 1);
    if (side === 1) this.marks[local >>> 5]! |= 1 << (local & 31);
    else this.marks[local >>> 5]! &= ~(1 << (local & 31));
    this.fronts[side]!.push(local);
  }

  /**
   * Expands one layer of one side of this slab's frontier. `outs` counts the steps handed to the
   * slab below (start, end side) and above (start, end side).
   */
  private expand(side: number, outs: number[]): void {
    const { flags, rowCells, control, layers, marks, innerStrides, innerWraps, planes, lazy } = this;
    const ready = planes.ready;
    const blockShift = planes.blockShift;
    const inner = innerStrides.length;
    const rows = this.rows;
    const lastRow = rows - 1;
    const row0 = this.row0;
    const sideCount = this.shape[0]!;
    const single = this.slabCount === 1;
    const wrapRows = this.wrapRows;
    const outbox = this.outbox;
    const code = codeOf(this.layersDone[side]! + 1);
    const other = 1 - side;
    const otherFront = codeOf(this.layersDone[other]!);
    const next = this.nexts[side]!;
    const front = this.fronts[side]!;
    front.data = this.order.order(front.data, front.length);
    const cells = front.data;
    const size = front.length;
    // Start-side steps fill an outbox from its front, end-side ones from its back.
    let outDown = side === 0 ? outs[0]! : outs[1]!;
    let outUp = side === 0 ? outs[2]! : outs[3]!;
    const downBase = side === 0 ? 0 : rowCells - 1;
    const upBase = side === 0 ? rowCells : 2 * rowCells - 1;
    const direction = side === 0 ? 1 : -1;

    const steps = this.steps;
    const perRow = 1 / rowCells;
    let nextCells = next.data;
    let grown = next.length;
    for (let f = 0; f < size; f++) {
      if ((f & (CHECK_EVERY - 1)) === 0) {
        control.checkpoint();
        if (control.claimedBy(this.round)) break;
      }
      const local = cells[f]!;
      // The row by a multiplication, corrected by one where rounding crossed a row boundary.
      let row = Math.floor(local * perRow);
      if (row * rowCells > local) row--;
      else if (local - row * rowCells >= rowCells) row++;
      const faces = flags[local - row * rowCells]!;
      // Collect the in-slab neighbours first, so the step below is written (and inlined) once.
      let count = 0;
      if (faces === 0) {
        for (let a = 0; a < inner; a++) {
          const stride = innerStrides[a]!;
          steps[count++] = local - stride;
          steps[count++] = local + stride;
        }
      } else {
        for (let a = 0; a < inner; a++) {
          const stride = innerStrides[a]!;
          const at = faces >> (2 * a);
          if ((at & 1) === 0) steps[count++] = local - stride;
          else if (innerWraps[a] !== 0) steps[count++] = local + innerWraps[a]!;
          if ((at & 2) === 0) steps[count++] = local + stride;
          else if (innerWraps[a] !== 0) steps[count++] = local - innerWraps[a]!;
        }
      }
      // Axis 0. Steps out of the slab go to the neighbour slab's outbox, as the offset in the row.
      if (row > 0) {
        if (lazy && ready[(row - 1) >>> blockShift] === 0) planes.materialise((row - 1) >>> blockShift);
        steps[count++] = local - rowCells;
      } else if (row0 > 0 || wrapRows) {
        if (single) {
          if (lazy) planes.ensureRow(lastRow);
          steps[count++] = local + lastRow * rowCells;
        } else {
          outbox![downBase + direction * outDown++] = local;
        }
      }
      if (row < lastRow) {
        if (lazy && ready[(row + 1) >>> blockShift] === 0) planes.materialise((row + 1) >>> blockShift);
        steps[count++] = local + rowCells;
      } else if (row0 + rows < sideCount || wrapRows) {
        if (single) {
          if (lazy) planes.ensureRow(0);
          steps[count++] = local - lastRow * rowCells;
        } else {
          outbox![upBase + direction * outUp++] = local - row * rowCells;
        }
      }
      for (let k = 0; k < count; k++) {
        const cell = steps[k]!;
        const word = cell >>> 4;
        const shift = (cell & 15) << 1;
        const state = (layers[word]! >>> shift) & 3;
        const markWord = cell >>> 5;
        const bit = 1 << (cell & 31);
        if (state === 0) {
          if ((marks[markWord]! & bit) !== 0) continue; // blocked
          layers[word]! |= code << shift;
          if (side === 1) marks[markWord]! |= bit;
          if (grown === nextCells.length) {
            next.length = grown;
            nextCells = next.reserve(grown + 1);
          }
          nextCells[grown++] = cell;
        } else if (((marks[markWord]! >>> (cell & 31)) & 1) !== side) {
          next.length = grown;
          if (this.meet(cell, side, state === otherFront ? FRONTIER_MEETING : NEW_LAYER_MEETING)) {
            return this.saveOuts(outs, side, outDown, outUp);
          }
        }
      }
    }
    next.length = grown;
    this.saveOuts(outs, side, outDown, outUp);
  }

  private saveOuts(outs: number[], side: number, outDown: number, outUp: number): void {
    outs[side] = outDown;
    outs[2 + side] = outUp;
  }

  /**
   * Records a meeting onto local cell `cell` by a step of `side`; true (stop expanding) for a
   * frontier meeting, which no other meeting of the round can beat.
   */
  private meet(cell: number, side: number, kind: number): boolean {
    if (kind === NEW_LAYER_MEETING && !this.bothGrow) kind = FRONTIER_MEETING;
    if (this.meetKind === 0 || kind < this.meetKind) {
      this.meetKind = kind;
      this.meetTo = this.lo + cell;
      this.meetSide = side;
    }
    if (kind !== FRONTIER_MEETING) return false;
    this.control.claim(this.round);
    return true;
  }

  /** Applies the steps the neighbour slabs handed to this one, start side first. */
  private receive(grew: [boolean, boolean]): void {
    const { control, me, slabCount, rowCells } = this;
    const wrap = this.wrapRows;
    const below = (me - 1 + slabCount) % slabCount;
    const above = (me + 1) % slabCount;
    const outboxes = this.task.buffers.outboxes!;
    const lastRow = (this.rows - 1) * rowCells;
    for (let side = 0; side < 2; side++) {
      if (!grew[side]) continue;
      const code = codeOf(this.layersDone[side]! + 1);
      const otherFront = codeOf(this.layersDone[1 - side]!);
      if (me > 0 || wrap) {
        // The slab below stepped up into this slab's first row.
        const box = new Uint32Array(outboxes[below]!);
        const count = control.floats[control.slabSlot(below, side === 0 ? OUT_UP_START : OUT_UP_END)]!;
        if (count > 0) this.planes.ensureRow(0);
        for (let i = 0; i < count; i++) {
          const offset = box[side === 0 ? rowCells + i : 2 * rowCells - 1 - i]!;
          if (this.visit(offset, side, code, otherFront)) return;
        }
      }
      if (me < slabCount - 1 || wrap) {
        // The slab above stepped down into this slab's last row.
        const box = new Uint32Array(outboxes[above]!);
        const count = control.floats[control.slabSlot(above, side === 0 ? OUT_DOWN_START : OUT_DOWN_END)]!;
        if (count > 0) this.planes.ensureRow(this.rows - 1);
        for (let i = 0; i < count; i++) {
          const offset = box[side === 0 ? i : rowCells - 1 - i]!;
          if (this.visit(lastRow + offset, side, code, otherFront)) return;
        }
      }
    }
  }

  /** Steps onto local cell `cell` for `side` (a step handed over by a neighbour slab); true on a frontier meeting. */
  private visit(cell: number, side: number, code: number, otherFront: number): boolean {
    const layers = this.layers;
    const word = cell >>> 4;
    const shift = (cell & 15) << 1;
    const state = (layers[word]! >>> shift) & 3;
    const marks = this.marks;
    const markWord = cell >>> 5;
    const bit = 1 << (cell & 31);
    if (state === 0) {
      if ((marks[markWord]! & bit) !== 0) return false; // blocked
      layers[word]! |= code << shift;
      if (side === 1) marks[markWord]! |= bit;
      this.nexts[side]!.push(cell);
      return false;
    }
    if (((marks[markWord]! >>> (cell & 31)) & 1) === side) return false;
    return this.meet(cell, side, state === otherFront ? FRONTIER_MEETING : NEW_LAYER_MEETING);
  }

  /**
   * The path through a meeting: `side` stepped onto cell `to` of the other side, from one of its
   * frontier cells (layer `before[side]`), a neighbour of `to` found here. Each half is walked
   * back to its own seed by stepping to a same-side neighbour one layer lower.
   */
  private walkBack(meeting: { to: number; side: number }, before: number[]): Uint32Array {
    const { to, side } = meeting;
    const want = codeOf(before[side]!);
    const from = neighboursOf(this.lattice, to).find((cell) => {
      const state = this.stateOf(cell);
      return state.code === want && state.bit === side;
    });
    if (from === undefined) throw new Error(`path walk-back found no frontier cell next to ${to}`);
    const fromHalf = this.walkToSeed(from, side);
    const toHalf = this.walkToSeed(to, 1 - side);
    const startHalf = side === 0 ? fromHalf : toHalf;
    const endHalf = side === 0 ? toHalf : fromHalf;
    return joinHalves(startHalf, endHalf);
  }

  /** Layer code and mark bit of a global cell, read from whichever slab holds it. */
  private stateOf(global: number): { code: number; bit: number } {
    const slab = slabOf(this.task.slabs, this.lattice, global);
    const local = global - slab.lo;
    this.allLayers ??= this.task.buffers.layers.map((buffer) => new Int32Array(buffer));
    this.allMarks ??= this.task.buffers.marks.map((buffer) => new Int32Array(buffer));
    const layers = this.allLayers[slab.index]!;
    const marks = this.allMarks[slab.index]!;
    return {
      code: (layers[local >>> 4]! >>> ((local & 15) << 1)) & 3,
      bit: (marks[local >>> 5]! >>> (local & 31)) & 1,
    };
  }

  /** The cells from `cell` back to its side's seed, `cell` first. */
  private walkToSeed(cell: number, side: number): number[] {
    const { lattice, task } = this;
    const seed = side === 0 ? task.start : task.end;
    const out = [cell];
    let current = cell;
    let code = this.stateOf(cell).code;
    while (current !== seed) {
      const want = code === 1 ? 3 : code - 1;
      let found = -1;
      for (const neighbour of neighboursOf(lattice, current)) {
        const state = this.stateOf(neighbour);
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
