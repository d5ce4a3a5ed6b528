/**
 * Every cell's cluster label in WebAssembly (worker/kernels/wasm/cell-labelling.wat), for the
 * components artefact: runs of open cells found a row of axis 0 at a time and joined by
 * union-find over runs (not cells) kept for the whole lattice, then numbered by first cell as
 * `scipy.ndimage.label` does and painted out a row at a time. The module's memory holds the runs
 * (12 bytes each) and grows with them, so it stays near 12 bytes per run, at most 6 per cell.
 */
import type { Lattice } from '../../shared/lattice/types.ts';
import { fillOpenLines, lineWords } from './open-mask.ts';
import { WASM_PAGE, compileWasm, instantiate, type WasmMemory } from './wasm-runtime.ts';

interface CellLabellingExports {
  memory: WasmMemory;
  init(...layout: number[]): void;
  row(r: number): number;
  joinRows(r: number, q: number): void;
  number(sizes: number): number;
  paint(r: number, out: number): void;
  fillProcedural(h0: number, threshold: number): void;
}

const TWO_POW_32 = 4294967296;
/** The most memory the module may take; past it (or a lattice of one cell per line) the JavaScript labelling runs. */
const MAX_BYTES = 2 ** 31;
const RUN_BYTES = 12;

let compiled: object | null = null;

function cellLabellingModule(): object {
  compiled ??= compileWasm(new URL('./wasm/cell-labelling.wasm', import.meta.url));
  return compiled;
}

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** How a lattice splits into rows of lines: a 1-D lattice is one row of one line. */
function rowsOf(lattice: Lattice): { rows: number; lines: number; lineCells: number } {
  const { shape } = lattice;
  const d = shape.length;
  const lineCells = shape[d - 1]!;
  if (d === 1) return { rows: 1, lines: 1, lineCells };
  return { rows: shape[0]!, lines: lattice.strides[0]! / lineCells, lineCells };
}

/** Bytes before the runs: the per-line tables, a row's open bits and a row of labels. */
function fixedBytes(lattice: Lattice): number {
  const { rows, lines, lineCells } = rowsOf(lattice);
  const joins = lines * 2 * Math.max(0, lattice.shape.length - 2);
  return 16 + align(4 * (rows * lines + 1)) + align(4 * (lines + 1)) + align(4 * joins) + align(4 * lines * lineWords(lineCells)) + align(4 * lines * lineCells);
}

/** Whether the module's memory fits the worst case (a run every other cell, a label per run). */
export function cellLabellingWasmFits(lattice: Lattice): boolean {
  const { rows, lines, lineCells } = rowsOf(lattice);
  const maxRuns = rows * lines * Math.ceil(lineCells / 2);
  return fixedBytes(lattice) + maxRuns * (RUN_BYTES + 4) <= MAX_BYTES;
}

/**
 * Labels every cell (von Neumann neighbours, the lattice's boundary): uint32 per cell, 0 blocked,
 * clusters numbered 1, 2, … by first cell; `sizes[l - 1]` cells carry label l.
 *
 * @param tick - called before each row of axis 0 with the rows done; may throw to stop
 * @param open - cells open whatever the obstacles say
 */
export function labelCellsWasm(lattice: Lattice, tick: (rowsDone: number) => void, open: readonly number[]): { labels: Uint32Array; sizes: Uint32Array } {
  const { shape, strides } = lattice;
  const d = shape.length;
  const wrap = lattice.boundary === 'periodic';
  const { rows, lines, lineCells } = rowsOf(lattice);
  const rowCells = lines * lineCells;
  const perLine = lineWords(lineCells);
  const maxRowRuns = lines * Math.ceil(lineCells / 2);

  let at = 16;
  const take = (bytes: number): number => {
    const address = at;
    at = align(at + bytes);
    return address;
  };
  const lineFirst = take(4 * (rows * lines + 1));
  const joinFirst = take(4 * (lines + 1));
  const joinList = take(4 * lines * 2 * Math.max(0, d - 2));
  const block = take(4 * lines * perLine);
  const out = take(4 * rowCells);
  const runs = at;

  const exports = instantiate<CellLabellingExports>(cellLabellingModule());
  const { memory } = exports;
  /** Grows the memory to at least `bytes`, by half again at least, so rows rarely wait for it. */
  const ensure = (bytes: number): void => {
    const have = memory.buffer.byteLength;
    if (bytes <= have) return;
    const want = Math.min(MAX_BYTES, Math.max(bytes, Math.floor(have * 1.5)));
    memory.grow(Math.ceil((want - have) / WASM_PAGE));
  };
  ensure(runs + maxRowRuns * RUN_BYTES);

  // Per line, the lines of the same row it joins: the previous line along each middle axis,
  // and across a periodic middle axis's seam (as run-labelling-wasm.ts).
  const i32 = new Int32Array(memory.buffer);
  const coords = new Float64Array(Math.max(0, d - 2));
  let listed = 0;
  for (let line = 0; line < lines; line++) {
    i32[(joinFirst >> 2) + line] = listed;
    for (let k = 0; k < d - 2; k++) {
      const x = coords[k]!;
      const stride = strides[k + 1]! / lineCells;
      if (x > 0) i32[(joinList >> 2) + listed++] = line - stride;
      if (wrap && x === shape[k + 1]! - 1 && x > 1) i32[(joinList >> 2) + listed++] = line - x * stride;
    }
    for (let k = d - 3; k >= 0; k--) {
      if (++coords[k]! < shape[k + 1]!) break;
      coords[k] = 0;
    }
  }
  i32[(joinFirst >> 2) + lines] = listed;
  exports.init(lines, perLine, lineCells, wrap && lineCells > 2 ? 1 : 0, lineFirst, joinFirst, joinList, block, runs);

  const { obstacles } = lattice;
  const hashed = open.length === 0 && obstacles.kind === 'procedural' && obstacles.threshold > 0 && obstacles.threshold < TWO_POW_32;
  let count = 0;
  for (let r = 0; r < rows; r++) {
    tick(r);
    ensure(runs + (count + maxRowRuns) * RUN_BYTES);
    if (hashed) exports.fillProcedural((r * rowCells + obstacles.offset) % TWO_POW_32 | 0, obstacles.threshold | 0);
    else fillOpenLines(new Int32Array(memory.buffer, block, lines * perLine), r * rowCells, lineCells, lines, obstacles, open);
    count = exports.row(r);
    if (r > 0) exports.joinRows(r, r - 1);
  }
  // The periodic seam of axis 0 (a side of 2 is adjacent already, and 1 has no seam).
  if (wrap && d > 1 && rows > 2) exports.joinRows(rows - 1, 0);

  const sizesAt = align(runs + count * RUN_BYTES);
  ensure(sizesAt + 4 * count);
  const clusters = exports.number(sizesAt);
  const labels = new Uint32Array(lattice.cells);
  for (let r = 0; r < rows; r++) {
    exports.paint(r, out);
    labels.set(new Uint32Array(memory.buffer, out, rowCells), r * rowCells);
  }
  const sizes = Uint32Array.from(new Uint32Array(memory.buffer, sizesAt, clusters));
  return { labels, sizes };
}
