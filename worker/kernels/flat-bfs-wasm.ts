/**
 * The one-thread search's layer expansion in WebAssembly (worker/kernels/wasm/flat-bfs.wat). The
 * instance's memory holds the search's whole state (marks, then the two code planes interleaved),
 * the per-block "obstacles materialised around here" flags, the inner axes' table and two chunk
 * buffers: frontier cells are copied in a chunk at a time and the fresh cells copied out, so the
 * frontier lists stay growable JavaScript arrays. Memory is sized once; views never detach. The
 * thread keeps its last instance for the next search (kept-wasm-memory.ts).
 */
import type { Lattice } from '../../shared/lattice/types.ts';
import { divisionMagic } from './division-magic.ts';
import { KeptInstances } from './kept-wasm-memory.ts';
import { WASM_PAGE, compileWasm, type WasmMemory } from './wasm-runtime.ts';

interface FlatBfsExports {
  memory: WasmMemory;
  expand(
    front: number,
    from: number,
    count: number,
    out: number,
    n: number,
    rowCells: number,
    lastRow: number,
    wrapRowStep: number,
    nowhere: number,
    axes: number,
    inner: number,
    near: number,
    blockShift: number,
    low: number,
    high: number,
    end: number,
    marks: number,
    codes: number,
  ): number;
  expandBricks(front: number, from: number, count: number, out: number, n: number, near: number, step1: number, step0: number, low: number, high: number, end: number, marks: number, codes: number): number;
}

let compiled: object | null = null;

function flatModule(): object {
  compiled ??= compileWasm(new URL('./wasm/flat-bfs.wasm', import.meta.url));
  return compiled;
}

/** The thread's spare instance (kept-wasm-memory.ts): its mapped pages outlive a search. */
export const keptFlatBfs = new KeptInstances<FlatBfsExports>(flatModule);

/** Frontier cells expanded per call (a cancel check between calls). */
export const WASM_CHUNK = 4096;
/** Most memory an instance may take; a larger lattice keeps the JavaScript expansion. */
const MAX_BYTES = 2 ** 31;
/**
 * Results (address 0..12), the row length's division magic (i64 at 16, its shift at 24) and the
 * axes table come first: per inner axis (up to 64) 24 bytes, its stride, period, wrap step, the
 * period's magic shift and magic (i64, division-magic.ts).
 */
const ROW_MAGIC = 16;
const AXES = 32;
const AXIS_BYTES = 24;
const HEADER = AXES + 64 * AXIS_BYTES;

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** Byte addresses of an instance's regions. */
interface Layout {
  marks: number;
  codes: number;
  near: number;
  front: number;
  out: number;
  total: number;
}

function layoutOf(lattice: Pick<Lattice, 'cells' | 'dimensions'>, words: number, blocks: number): Layout {
  const marks = align(HEADER);
  const codes = marks + 4 * words;
  const near = codes + 8 * words;
  const front = align(near + blocks);
  const out = front + 4 * WASM_CHUNK;
  const total = out + 4 * WASM_CHUNK * 2 * lattice.dimensions;
  return { marks, codes, near, front, out, total };
}

/** Bytes of the instance's memory for a lattice (whole pages), or null when it does not fit. */
export function flatWasmBytes(lattice: Pick<Lattice, 'cells' | 'dimensions'>, words: number, blocks: number): number | null {
  if (lattice.dimensions > 65) return null;
  const total = layoutOf(lattice, words, blocks).total;
  return total > MAX_BYTES ? null : Math.ceil(total / WASM_PAGE) * WASM_PAGE;
}

/** What one call of `expand` ended with: done, a meeting, or a block to materialise first. */
export const EXPAND_DONE = 0;
export const EXPAND_MET = 1;
export const EXPAND_NEEDS_BLOCK = 2;

/** One instance: the state's views and the expansion of one chunk. */
export class FlatBfsWasm {
  readonly marks: Int32Array;
  readonly codes: Int32Array;
  readonly near: Uint8Array;
  readonly bytes: number;
  private readonly exports: FlatBfsExports;
  private readonly layout: Layout;
  private readonly front: Int32Array;
  private readonly out: Int32Array;
  private readonly results: Int32Array;
  private readonly lattice: Lattice;

  constructor(lattice: Lattice, words: number, blocks: number, axes: Int32Array) {
    this.lattice = lattice;
    this.layout = layoutOf(lattice, words, blocks);
    this.exports = keptFlatBfs.take(this.layout.total);
    // The layout's pages only: a kept memory may be larger (per-thread headroom).
    this.bytes = Math.ceil(this.layout.total / WASM_PAGE) * WASM_PAGE;
    const { buffer } = this.exports.memory;
    this.marks = new Int32Array(buffer, this.layout.marks, words);
    this.codes = new Int32Array(buffer, this.layout.codes, 2 * words);
    this.near = new Uint8Array(buffer, this.layout.near, blocks);
    this.front = new Int32Array(buffer, this.layout.front, WASM_CHUNK);
    this.out = new Int32Array(buffer, this.layout.out, WASM_CHUNK * 2 * lattice.dimensions);
    this.results = new Int32Array(buffer, 0, 4);
    this.writeDivisors(buffer, axes);
  }

  /** The row length's and the inner periods' division magic, beside the axis triples. */
  private writeDivisors(buffer: ArrayBuffer, axes: Int32Array): void {
    const view = new DataView(buffer);
    const row = divisionMagic(this.lattice.strides[0]!);
    view.setBigUint64(ROW_MAGIC, row.magic, true);
    view.setInt32(ROW_MAGIC + 8, row.shift, true);
    for (let a = 0; 3 * a < axes.length; a++) {
      const at = AXES + a * AXIS_BYTES;
      const period = divisionMagic(axes[3 * a + 1]!);
      view.setInt32(at, axes[3 * a]!, true);
      view.setInt32(at + 4, axes[3 * a + 1]!, true);
      view.setInt32(at + 8, axes[3 * a + 2]!, true);
      view.setInt32(at + 12, period.shift, true);
      view.setBigUint64(at + 16, period.magic, true);
    }
  }

  /** Hands the instance back for the thread's next search; call once, after the last use of the views. */
  release(): void {
    keptFlatBfs.release(this.exports);
  }

  /** Copies a chunk of frontier cells in. */
  load(cells: Int32Array, from: number, count: number): void {
    this.front.set(cells.subarray(from, from + count));
  }

  /**
   * Expands loaded cells [from, count), appending after `n` fresh cells already written. The
   * cell reached (on a meeting or a missing block), the fresh cells written and the block are in
   * `at`, `written` and `block` afterwards.
   */
  expand(from: number, count: number, n: number, code: number, side: number, blockShift: number, wrapRows: boolean): number {
    const { lattice, layout } = this;
    const rowCells = lattice.strides[0]!;
    const lastRow = lattice.shape[0]! - 1;
    return this.exports.expand(
      layout.front,
      from,
      count,
      layout.out,
      n,
      rowCells,
      lastRow,
      wrapRows ? lastRow * rowCells : 0,
      lattice.cells,
      AXES,
      lattice.dimensions - 1,
      layout.near,
      blockShift,
      -(code & 1),
      -(code >> 1),
      side === 1 ? -1 : 0,
      layout.marks,
      layout.codes,
    );
  }

  /** As `expand`, in the brick layout (brick-layout.ts): `near` has a byte per brick. */
  expandBricks(from: number, count: number, n: number, code: number, side: number, step1: number, step0: number): number {
    const { layout } = this;
    return this.exports.expandBricks(layout.front, from, count, layout.out, n, layout.near, step1, step0, -(code & 1), -(code >> 1), side === 1 ? -1 : 0, layout.marks, layout.codes);
  }

  get at(): number {
    return this.results[0]!;
  }

  get written(): number {
    return this.results[1]!;
  }

  get block(): number {
    return this.results[2]!;
  }

  /** The fresh cells written by the last calls. */
  fresh(count: number): Int32Array {
    return this.out.subarray(0, count);
  }
}
