/**
 * A distance field's layer expansion by class rows in WebAssembly (worker/kernels/wasm/class-bfs.wat).
 * The instance's memory holds the class rows (cell-classes.ts), the search's state (a byte per
 * cell: the open bit 0x80 over the cell's class) and two chunk buffers: frontier cells are copied
 * in a chunk at a time and the fresh ones copied out, so the frontier lists stay growable
 * JavaScript arrays. The thread keeps its last instance for the next run (kept-wasm-memory.ts):
 * on a 1 MiB state, fresh pages cost about as much as the search.
 */
import type { Connectivity, Lattice } from '../../shared/lattice/types.ts';
import type { CellQueue } from './cell-queue.ts';
import { classTable, fillCellClasses } from './cell-classes.ts';
import { KeptInstances } from './kept-wasm-memory.ts';
import { WASM_PAGE, compileWasm, type WasmMemory } from './wasm-runtime.ts';

interface ClassBfsExports {
  memory: WasmMemory;
  expand(front: number, count: number, out: number, state: number, rows: number, rowBytes: number): number;
}

let compiled: object | null = null;

function classBfsModule(): object {
  compiled ??= compileWasm(new URL('./wasm/class-bfs.wasm', import.meta.url));
  return compiled;
}

/** The thread's spare instance: its mapped pages outlive a run. */
export const keptClassBfs = new KeptInstances<ClassBfsExports>(classBfsModule);

/** Most axes a class fits below the open bit (2 bits per axis). */
export const CLASS_BFS_DIMENSIONS = 3;
/** Frontier cells expanded per call; small, so the output chunk (26 neighbours each) stays small. */
const CHUNK = 1024;
/** Most memory an instance may take: addresses stay below 2^31. */
const MAX_BYTES = 2 ** 31;

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

interface Layout {
  rows: number;
  state: number;
  front: number;
  out: number;
  total: number;
}

function layoutOf(cells: number, rowInts: number, classes: number, most: number): Layout {
  const rows = 16;
  const state = align(rows + 4 * rowInts * classes);
  const front = align(state + cells);
  const out = front + 4 * CHUNK;
  // One slot past the most fresh cells: every neighbour is written before it is kept or not.
  const total = out + 4 * (CHUNK * most + 1);
  return { rows, state, front, out, total };
}

/** Whether the WebAssembly expansion serves a lattice: up to 3 axes, its memory below 2 GiB. */
export function classBfsFits(lattice: Pick<Lattice, 'cells' | 'dimensions'>): boolean {
  if (lattice.dimensions > CLASS_BFS_DIMENSIONS) return false;
  const most = 3 ** lattice.dimensions - 1;
  return layoutOf(lattice.cells, 1 + 2 * most, 4 ** lattice.dimensions, most).total <= MAX_BYTES;
}

/** One run's instance: fill {@link ClassBfsWasm.state} with open bytes (1 open, 0 blocked), {@link ClassBfsWasm.addClasses}, then expand layers. */
export class ClassBfsWasm {
  /** A byte per cell: 1 open, 0 blocked until {@link ClassBfsWasm.addClasses}; then the open bit over the class. */
  readonly state: Uint8Array;
  /** The layout's pages (a kept memory may be larger: per-thread headroom). */
  readonly bytes: number;
  private readonly exports: ClassBfsExports;
  private readonly layout: Layout;
  private readonly rowBytes: number;
  private readonly front: Uint32Array;
  private readonly out: Uint32Array;
  private readonly lattice: Lattice;

  constructor(lattice: Lattice, connectivity: Connectivity) {
    this.lattice = lattice;
    const table = classTable(lattice, connectivity);
    const most = table.moves.length;
    this.layout = layoutOf(lattice.cells, table.stride, 4 ** lattice.dimensions, most);
    this.rowBytes = 4 * table.stride;
    this.exports = keptClassBfs.take(this.layout.total);
    this.bytes = Math.ceil(this.layout.total / WASM_PAGE) * WASM_PAGE;
    const { buffer } = this.exports.memory;
    new Int32Array(buffer, this.layout.rows, table.rows.length).set(table.rows);
    this.state = new Uint8Array(buffer, this.layout.state, lattice.cells);
    this.front = new Uint32Array(buffer, this.layout.front, CHUNK);
    this.out = new Uint32Array(buffer, this.layout.out, CHUNK * most + 1);
  }

  /** Turns the open bytes into the open bit over each cell's class. */
  addClasses(): void {
    const { state } = this;
    for (let i = 0; i < state.length; i++) state[i] = state[i]! << 7;
    fillCellClasses(this.lattice, state);
  }

  /** Reaches the open neighbours of `list[from, to)`, clearing their open bit and adding them to `next`. */
  expand(list: Uint32Array, from: number, to: number, next: CellQueue): void {
    const { exports, layout, front, out } = this;
    for (let at = from; at < to; at += CHUNK) {
      const count = Math.min(CHUNK, to - at);
      front.set(list.subarray(at, at + count));
      const fresh = exports.expand(layout.front, count, layout.out, layout.state, layout.rows, this.rowBytes);
      const data = next.reserve(next.length + fresh);
      data.set(out.subarray(0, fresh), next.length);
      next.length += fresh;
    }
  }

  /** Hands the instance back for the thread's next run; call once, after the last use of the views. */
  release(): void {
    keptClassBfs.release(this.exports);
  }
}
