/**
 * Dial's search, shared by min_cost_path and the distance field on a cost map: costs are integers
 * in [1, max], so a ring of max + 1 buckets holds every cost still pending, and cells are
 * settled in order of cost without a heap. A path's cost is the sum of the costs of the cells it
 * enters, so a cell's cost is final the first time it is reached (from the cheapest neighbour
 * settled so far; any later one costs as much or more): reaching zeroes its cost byte, no
 * distance is kept and no bucket entry goes stale. The WebAssembly search (dial-wasm.ts) serves
 * every lattice it fits (up to 4 axes, below 2 GiB); {@link DialJs} the rest, with the same
 * interface. Either: fill `costs`, `start` from the sources, `run` in budgets (a cancel check
 * between).
 */
import { cellCost } from '../../shared/lattice/cost-rule.ts';
import type { Connectivity, Lattice } from '../../shared/lattice/types.ts';
import { CellQueue } from './cell-queue.ts';
import { DIAL_BUDGET, DIAL_DONE, DIAL_FOUND, DialWasm, dialWasmFits } from './dial-wasm.ts';
import type { JobControl } from './job-control.ts';
import { CellNeighbours } from './cell-neighbours.ts';

/** Cells settled between two cancel checks. */
const CHECK_CELLS = 32768;

/** Called once per cost that settled cells, in ascending order of cost. */
export type LevelCallback = (cost: number, cells: number) => void;

export interface DialEngine {
  /** A cost byte per cell (0: blocked) to fill before {@link DialEngine.start}; zeroed as cells are reached. */
  readonly costs: Uint8Array;
  /** Turns the open bytes of `costs` (1 open, 0 blocked) into the public cost rule's costs; returns the open cells. */
  fillCosts(maxCost: number, costOffset: number, checkpoint: () => void): number;
  /** The sources at cost 0, and the cell to stop at (-1: none). */
  start(sources: ArrayLike<number>, count: number, end: number): void;
  run(budget: number): number;
  readonly settled: number;
  /** The cost of the cells being settled: after {@link DIAL_FOUND}, the end cell's. */
  readonly cost: number;
  /** The cell a reached non-source cell was reached from (tracked searches only). */
  previous(cell: number): number;
  readonly bytes: number;
}

/**
 * The engine for a lattice: WebAssembly where it fits.
 *
 * @param tracked - keep what {@link DialEngine.previous} needs (a path is walked back)
 */
export function dialEngine(lattice: Lattice, connectivity: Connectivity, maxCost: number, level: LevelCallback, tracked: boolean): DialEngine {
  return dialWasmFits(lattice, maxCost) ? new DialWasm(lattice, connectivity, maxCost, level, tracked) : new DialJs(lattice, connectivity, maxCost, level, tracked);
}

/** Runs a started search to its end (or the end cell), checking for cancel and publishing progress; whether the end cell was settled. */
export function runDial(engine: DialEngine, control: JobControl, openCells: number): boolean {
  for (;;) {
    control.checkpoint();
    const status = engine.run(CHECK_CELLS);
    if (status === DIAL_FOUND) return true;
    if (status === DIAL_DONE) return false;
    control.publishProgress((0.95 * engine.settled) / openCells);
  }
}

/** The search in JavaScript, for lattices the WebAssembly one does not take; a tracked one keeps a float64 parent per cell. */
export class DialJs implements DialEngine {
  readonly costs: Uint8Array;
  settled = 0;
  cost = 0;
  private readonly parents: Float64Array;
  private readonly steps: CellNeighbours;
  private readonly buckets: CellQueue[];
  private readonly maxCost: number;
  private readonly level: LevelCallback;
  private end = -1;
  private slot = 0;
  private pending = 0;
  private here = 0;

  constructor(lattice: Lattice, connectivity: Connectivity, maxCost: number, level: LevelCallback, tracked: boolean) {
    this.costs = new Uint8Array(lattice.cells);
    this.parents = new Float64Array(tracked ? lattice.cells : 0);
    this.steps = new CellNeighbours(lattice, connectivity);
    this.buckets = Array.from({ length: maxCost + 1 }, () => new CellQueue(256));
    this.maxCost = maxCost;
    this.level = level;
  }

  fillCosts(maxCost: number, costOffset: number, checkpoint: () => void): number {
    const { costs } = this;
    let open = 0;
    for (let i = 0; i < costs.length; i++) {
      if ((i & 0xfffff) === 0) checkpoint();
      if (costs[i] === 0) continue;
      costs[i] = maxCost === 1 ? 1 : cellCost(i, maxCost, costOffset);
      open++;
    }
    return open;
  }

  start(sources: ArrayLike<number>, count: number, end: number): void {
    this.end = end;
    for (let k = 0; k < count; k++) {
      this.costs[sources[k]!] = 0;
      this.buckets[0]!.push(sources[k]!);
    }
    this.pending = count;
  }

  run(budget: number): number {
    const { costs, parents, steps, buckets, maxCost, end } = this;
    const tracked = parents.length > 0;
    const around = steps.around;
    const ring = maxCost + 1;
    let { cost, slot, pending, here } = this;
    let left = budget;
    let status = DIAL_DONE;
    search: for (; pending > 0; cost++, slot = slot === maxCost ? 0 : slot + 1) {
      const bucket = buckets[slot]!;
      // Entering a cell costs at least 1, so nothing settled here lands in this bucket again.
      while (bucket.length > 0) {
        if (left === 0) {
          status = DIAL_BUDGET;
          break search;
        }
        const cell = bucket.data[--bucket.length]!;
        pending--;
        left--;
        here++;
        if (cell === end) {
          status = DIAL_FOUND;
          break search;
        }
        const count = steps.fill(cell);
        for (let j = 0; j < count; j++) {
          const neighbour = around[j]!;
          const step = costs[neighbour]!;
          if (step === 0) continue;
          costs[neighbour] = 0;
          if (tracked) parents[neighbour] = cell;
          const to = slot + step;
          buckets[to >= ring ? to - ring : to]!.push(neighbour);
          pending++;
        }
      }
      if (here > 0) this.level(cost, here);
      here = 0;
    }
    this.settled += budget - left;
    Object.assign(this, { cost, slot, pending, here });
    return status;
  }

  previous(cell: number): number {
    return this.parents[cell]!;
  }

  get bytes(): number {
    let bytes = this.costs.byteLength + this.parents.byteLength + this.steps.max * 12;
    for (const bucket of this.buckets) bytes += bucket.bytes;
    return bytes;
  }
}
