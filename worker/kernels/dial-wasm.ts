/**
 * Dial's search in WebAssembly (worker/kernels/wasm/dial.wat): the instance's memory holds the
 * class rows (cell-classes.ts), the ring's bucket heads and fills, a cost byte and a class byte
 * per cell (and a move byte when the path is asked for), then the buckets' 4 KiB chunks, which
 * grow the memory on demand (a resumable `run` says when). Views are made after each growth.
 */
import type { Connectivity, Lattice } from '../../shared/lattice/types.ts';
import { classTable, fillCellClasses, MAX_CLASS_DIMENSIONS } from './cell-classes.ts';
import { KernelError } from './kernel-errors.ts';
import { WASM_PAGE, compileWasm, instantiate, type WasmMemory } from './wasm-runtime.ts';

interface DialExports {
  memory: WasmMemory;
  fillCosts(costs: number, cells: number, offset: number, max: number): number;
  source(cell: number): number;
  run(budget: number): number;
}

/** What `run` ended with. */
export const DIAL_DONE = 0;
export const DIAL_FOUND = 1;
export const DIAL_BUDGET = 2;
const DIAL_GROW = 3;

/** Most bytes an instance may reach: addresses stay below 2^31. */
const MAX_BYTES = 2 ** 31;
const CHUNK_BYTES = 4096;
const HEADER = 128;
/** Cells given their cost between two cancel checks. */
const COST_CHUNK = 1 << 20;

let compiled: object | null = null;

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

interface Layout {
  tables: number;
  heads: number;
  fills: number;
  costs: number;
  classes: number;
  moves: number;
  chunks: number;
}

function layoutOf(lattice: Pick<Lattice, 'cells' | 'dimensions'>, rowInts: number, ring: number, tracked: boolean): Layout {
  const tables = HEADER;
  const heads = align(tables + 4 * rowInts * 4 ** lattice.dimensions);
  const fills = heads + 4 * ring;
  const costs = align(fills + 4 * ring);
  const classes = align(costs + lattice.cells);
  const moves = align(classes + lattice.cells);
  const chunks = align(moves + (tracked ? lattice.cells : 0));
  return { tables, heads, fills, costs, classes, moves, chunks };
}

/** Whether the WebAssembly search serves a lattice: at most {@link MAX_CLASS_DIMENSIONS} axes, its state below 2^31 bytes with room for the buckets. */
export function dialWasmFits(lattice: Pick<Lattice, 'cells' | 'dimensions'>, maxCost: number): boolean {
  if (lattice.dimensions > MAX_CLASS_DIMENSIONS) return false;
  return layoutOf(lattice, 1 + 2 * (3 ** lattice.dimensions - 1), maxCost + 1, true).chunks + lattice.cells <= MAX_BYTES;
}

/** One search: fill {@link DialWasm.costs}, `start` from the sources, then `run`. */
export class DialWasm {
  /** The cost bytes, zeroed as cells are reached; a fresh view after each growth. */
  costs: Uint8Array;
  private readonly exports: DialExports;
  private readonly layout: Layout;
  private readonly lattice: Lattice;
  private readonly moves: readonly (readonly number[])[];
  private header: Int32Array;

  /**
   * @param tracked - record the move that reached each cell, for {@link DialWasm.previous}
   * @param spareChunks - chunks to start with beyond a cell's neighbours' (tests start with none, to grow)
   */
  constructor(lattice: Lattice, connectivity: Connectivity, maxCost: number, level: (cost: number, cells: number) => void, tracked: boolean, spareChunks = maxCost + 65) {
    this.lattice = lattice;
    compiled ??= compileWasm(new URL('./wasm/dial.wasm', import.meta.url));
    this.exports = instantiate<DialExports>(compiled, { dial: { level: (cost: number, cells: number) => level(cost >>> 0, cells) } });
    const table = classTable(lattice, connectivity);
    this.moves = table.moves;
    const ring = maxCost + 1;
    const most = table.moves.length;
    this.layout = layoutOf(lattice, table.stride, ring, tracked);
    const initial = this.layout.chunks + (most + spareChunks) * CHUNK_BYTES;
    const memory = this.exports.memory;
    memory.grow(Math.ceil(initial / WASM_PAGE) - memory.buffer.byteLength / WASM_PAGE);
    const { buffer } = memory;
    const { tables, heads, fills, costs, classes, moves, chunks } = this.layout;
    this.header = new Int32Array(buffer, 0, HEADER / 4);
    this.header[28 / 4] = chunks;
    this.header.set([tables, table.stride * 4, heads, fills, costs, classes, tracked ? moves : 0, ring, -1, most], 32 / 4);
    new Int32Array(buffer, tables, table.rows.length).set(table.rows);
    fillCellClasses(lattice, new Uint8Array(buffer, classes, lattice.cells));
    this.costs = new Uint8Array(buffer, costs, lattice.cells);
  }

  /** Turns the open bytes of {@link DialWasm.costs} (1 open, 0 blocked) into the cost rule's costs; returns the open cells. */
  fillCosts(maxCost: number, costOffset: number, checkpoint: () => void): number {
    const { cells } = this.lattice;
    let open = 0;
    for (let from = 0; from < cells; from += COST_CHUNK) {
      checkpoint();
      open += this.exports.fillCosts(this.layout.costs + from, Math.min(COST_CHUNK, cells - from), (costOffset + from) | 0, maxCost);
    }
    return open;
  }

  /** After the costs are filled: the sources at cost 0, and the cell to stop at (-1: none). */
  start(sources: ArrayLike<number>, count: number, end: number): void {
    this.header[64 / 4] = end;
    for (let k = 0; k < count; k++) {
      while (this.exports.source(sources[k]!) === 0) this.grow();
    }
  }

  /** Settles up to `budget` cells: {@link DIAL_DONE}, {@link DIAL_FOUND} or {@link DIAL_BUDGET}. */
  run(budget: number): number {
    for (;;) {
      const status = this.exports.run(budget);
      if (status !== DIAL_GROW) return status;
      this.grow();
    }
  }

  /** Cells settled so far. */
  get settled(): number {
    return this.header[12 / 4]!;
  }

  /** The cost of the cells being settled: after {@link DIAL_FOUND}, the end cell's. */
  get cost(): number {
    return this.header[0]! >>> 0;
  }

  /** The cell a reached non-source cell was reached from (tracked searches only). */
  previous(cell: number): number {
    const move = this.moves[new Uint8Array(this.exports.memory.buffer, this.layout.moves + cell, 1)[0]!]!;
    const { shape, strides } = this.lattice;
    let rest = cell;
    let from = 0;
    for (let a = shape.length - 1; a >= 0; a--) {
      const side = shape[a]!;
      const x = rest % side;
      rest = (rest - x) / side;
      // Undo the step; a step that wrapped is undone by wrapping back.
      const back = (x - move[a]! + side) % side;
      from += back * strides[a]!;
    }
    return from;
  }

  get bytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  private grow(): void {
    const memory = this.exports.memory;
    const pages = memory.buffer.byteLength / WASM_PAGE;
    const more = Math.min(Math.max(16, Math.ceil((memory.buffer.byteLength - this.layout.chunks) / 2 / WASM_PAGE)), MAX_BYTES / WASM_PAGE - pages);
    if (more <= 0) throw new KernelError('too_large', "the search's buckets outgrew 2 GiB");
    memory.grow(more);
    this.header = new Int32Array(memory.buffer, 0, HEADER / 4);
    this.costs = new Uint8Array(memory.buffer, this.layout.costs, this.lattice.cells);
  }
}
