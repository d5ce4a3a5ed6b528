/**
 * The diffusion step in WebAssembly SIMD (worker/kernels/wasm/diffusion-stencil.wat), four
 * float32 cells at a time, one module instance per slab thread. The instance's memory holds the
 * slab's conductance codes and its one field, with a halo row either side, stepped in place: a
 * row's new values go to one of two row buffers and are written back once the next row no longer
 * needs the old ones, so a slab takes 5 bytes a cell, not 9 (fresh pages are dear on the 2-core
 * VM, and a smaller memory stays kept between runs). Only the slab's two face rows cross to the
 * neighbour slabs, through small shared face buffers (`publishFace`, `takeHalos`). See
 * docs/architecture.md › Kernels.
 */
import type { Slab } from './slabs.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { codesMaskBytes, fillCodesMask } from './conductance-codes.ts';
import { sampleShape } from './field-sample.ts';
import { KEEP_BYTES, KeptInstances } from './kept-wasm-memory.ts';
import { WASM_PAGE, compileWasm, type WasmMemory } from './wasm-runtime.ts';
import { mark } from './timeline-marks.ts';

export { KEEP_BYTES };

interface StencilExports {
  memory: WasmMemory;
  span(out: number, u: number, codes: number, cells: number, o0: number, o1: number, o2: number, o3: number, alpha: number): void;
  span4(out: number, u: number, codes: number, cells: number, o0: number, o1: number, alpha: number): void;
  lineEnds(out: number, u: number, codes: number, lines: number, n: number, wrap: number, o0: number, o1: number, o2: number, o3: number, alpha: number): void;
  accumulate(dst: number, src: number, cells: number, first: number): void;
  codeSpan(codes: number, mask: number, cells: number, o0: number, o1: number, o2: number, o3: number): void;
  codeAdd(codes: number, mask: number, cells: number, o: number): void;
  codeEnds(codes: number, mask: number, lines: number, n: number, wrap: number): void;
  lineSums(field: number, codes: number, ends: number, blocks: number, sums: number, acc: number): void;
  rows2d(field: number, codes: number, from: number, to: number, rows: number, n: number, wrap: number, alpha: number, buf0: number, buf1: number, zero: number): void;
}

let compiled: object | null = null;

/** The assembled module, compiled once per thread. */
function stencilModule(): object {
  compiled ??= compileWasm(new URL('./wasm/diffusion-stencil.wasm', import.meta.url));
  return compiled;
}

/** The thread's spare instance (kept-wasm-memory.ts): its mapped pages outlive a run. */
const kept = new KeptInstances<StencilExports>(stencilModule);

/** Slack around each region: the SIMD loops read a cell either side and write up to 16 bytes past a span. */
const PAD = 32;
/** Most memory a slab's instance may take; a larger slab keeps the JavaScript stencil. */
const MAX_BYTES = 2 ** 31;

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** Byte addresses of a slab instance's regions. */
interface Layout {
  codes: number;
  /** The mask while the codes are built, then the field. */
  work: number;
  /** A row of zero mask bytes (missing neighbour lines) while the codes are built. */
  maskZero: number;
  /** The field's halo row below the slab; its rows follow, then the halo row above. */
  field: number;
  /** Two rows the step writes into before copying them back (row r goes to buffer r mod 2). */
  buffers: [number, number];
  /** A row of zeros (missing neighbour lines), and a row for summing lines past the fourth. */
  zero: number;
  scratch: number;
  /** The summary's carried totals (16 bytes), its line's block ends (i32) and block sums (f64). */
  acc: number;
  ends: number;
  sums: number;
  total: number;
}

function layoutOf(lattice: Lattice, slab: Slab): Layout {
  const rowCells = lattice.strides[0]!;
  const rowBytes = rowCells * 4;
  const codes = PAD;
  const work = align(codes + slab.cells + PAD);
  const field = work + PAD;
  const buffer0 = align(field + (slab.rows + 2) * rowBytes + PAD) + PAD;
  const buffer1 = align(buffer0 + rowBytes + PAD) + PAD;
  const zero = align(buffer1 + rowBytes + PAD) + PAD;
  const scratch = align(zero + rowBytes + PAD) + PAD;
  const acc = align(scratch + rowBytes + PAD);
  const ends = acc + 16;
  const lastBlocks = sampleShape(lattice.shape).at(-1)!;
  const sums = align(ends + 4 * lastBlocks);
  const rows = sums + 8 * lastBlocks + PAD;
  const maskZero = align(work + codesMaskBytes(lattice, slab) + PAD) + PAD;
  const total = Math.max(rows, maskZero + rowCells + PAD);
  return { codes, work, maskZero, field, buffers: [buffer0, buffer1], zero, scratch, acc, ends, sums, total };
}

/** Whether every slab of a run can step in WebAssembly: rows of lines, and memories that fit. */
export function wasmStencilFits(lattice: Lattice, slabs: readonly Slab[]): boolean {
  return lattice.shape.length >= 2 && slabs.every((slab) => layoutOf(lattice, slab).total <= MAX_BYTES);
}

/** Bytes of the memory a slab's instance takes (whole pages). */
export function wasmStencilBytes(lattice: Lattice, slab: Slab): number {
  return Math.ceil(layoutOf(lattice, slab).total / WASM_PAGE) * WASM_PAGE;
}

/** Float32s of a slab's face buffer: two rounds (alternating) of its first and last row. */
export function faceBufferCells(lattice: Lattice): number {
  return 4 * lattice.strides[0]!;
}

/** Heat added to a face cell after the face is written: `value` at cell `at` of the row. */
export interface FacePoint {
  at: number;
  value: number;
}

/** A middle-axis neighbour line that does not exist (offsets are multiples of 4). */
const MISSING = 1;

/** Lines of a row that share their middle-axis neighbour offsets (bytes, or MISSING). */
interface LineSpan {
  at: number;
  lines: number;
  middle: Int32Array;
}

/** A row's lines grouped into spans: every row of the lattice has the same. */
function spansOf(lattice: Lattice): LineSpan[] {
  const { shape, strides } = lattice;
  const d = shape.length;
  const n = shape[d - 1]!;
  const rowCells = strides[0]!;
  const midAxes = d - 2;
  const coords = new Float64Array(midAxes);
  const spans: LineSpan[] = [];
  let last: LineSpan | null = null;
  for (let at = 0; at < rowCells; at += n) {
    const middle = new Int32Array(2 * midAxes);
    for (let a = 1; a <= midAxes; a++) {
      const side = shape[a]!;
      const stride = strides[a]! * 4;
      const y = coords[a - 1]!;
      const cyclic = lattice.periodic[a] === true && side > 2;
      middle[2 * a - 2] = y > 0 ? -stride : cyclic ? (side - 1) * stride : MISSING;
      middle[2 * a - 1] = y < side - 1 ? stride : cyclic ? -(side - 1) * stride : MISSING;
    }
    if (last !== null && middle.every((offset, k) => offset === last!.middle[k])) last.lines++;
    else spans.push((last = { at, lines: 1, middle }));
    for (let a = midAxes - 1; a >= 0; a--) {
      if (++coords[a]! < shape[a + 1]!) break;
      coords[a] = 0;
    }
  }
  return spans;
}

/** One slab thread's instance, its memory laid out for `slab`. */
export class WasmStencil {
  readonly codes: Uint8Array;
  readonly mask: Uint8Array;
  private readonly exports: StencilExports;
  private readonly layout: Layout;
  private readonly f32: Float32Array;
  private readonly spans: LineSpan[];
  private readonly rowCells: number;
  private readonly rows: number;
  private blocks = 0;
  private sums = new Float64Array(0);

  constructor(lattice: Lattice, slab: Slab) {
    this.layout = layoutOf(lattice, slab);
    this.rowCells = lattice.strides[0]!;
    this.rows = slab.rows;
    this.exports = kept.take(this.layout.total);
    const memory = this.exports.memory;
    this.codes = new Uint8Array(memory.buffer, this.layout.codes, slab.cells);
    this.mask = new Uint8Array(memory.buffer, this.layout.work, codesMaskBytes(lattice, slab));
    this.f32 = new Float32Array(memory.buffer);
    this.spans = spansOf(lattice);
  }

  /** The field's rows of the slab (without the halo rows), in the instance's memory. */
  field(): Float32Array {
    return this.f32.subarray((this.layout.field >> 2) + this.rowCells, (this.layout.field >> 2) + (this.rows + 1) * this.rowCells);
  }

  /** Row q of the field, -1 ≤ q ≤ rows (-1 and rows are the halo rows). */
  private row(q: number): Float32Array {
    const at = (this.layout.field >> 2) + (q + 1) * this.rowCells;
    return this.f32.subarray(at, at + this.rowCells);
  }

  /**
   * Writes face `side` of the field (0: the slab's first row, 1: its last) after `round` steps
   * into half `round mod 2` of the slab's face buffer, with `pending` added: the heat the field
   * gets after the face is written (the sources of its row, as `addHeat` will add them). A
   * neighbour reads round `round` before its step `round`, and this slab writes round `round + 2`
   * only after that neighbour's round `round + 1` face arrived (`takeHalos`), so a face being read
   * is never overwritten.
   *
   * @param faces - every slab's face buffer (faceBufferCells float32s each)
   */
  publishFace(faces: readonly Float32Array[], me: number, round: number, side: 0 | 1, pending: readonly FacePoint[]): void {
    const rowCells = this.rowCells;
    const at = (round % 2) * 2 * rowCells + side * rowCells;
    const face = faces[me]!.subarray(at, at + rowCells);
    face.set(this.row(side === 0 ? 0 : this.rows - 1));
    for (const point of pending) face[point.at]! += point.value;
  }

  /**
   * Both faces out, a wait for every slab thread (`barrier`), the neighbours' faces in: the
   * exchange of one round in one call, as a lone slab (or a test) needs it.
   */
  exchangeFaces(lattice: Lattice, slabs: readonly Slab[], me: number, faces: readonly Float32Array[], round: number, barrier: () => void): void {
    this.publishFace(faces, me, round, 0, []);
    this.publishFace(faces, me, round, 1, []);
    barrier();
    this.takeHalos(lattice, slabs, me, faces, round, () => undefined);
  }

  /**
   * Takes the neighbour slabs' faces after `round` steps into the halo rows: the last row of the
   * slab below, the first of the slab above, each once `ready(slab, side)` returns (it waits for
   * that slab to have written it). A halo row with no neighbour (an open lattice's edge) stays zero.
   */
  takeHalos(lattice: Lattice, slabs: readonly Slab[], me: number, faces: readonly Float32Array[], round: number, ready: (slab: number, side: 0 | 1) => void): void {
    const rowCells = this.rowCells;
    const half = (round % 2) * 2 * rowCells;
    const own = slabs[me]!;
    const side0 = lattice.shape[0]!;
    const cyclic0 = lattice.periodic[0] === true && side0 > 2;
    const count = slabs.length;
    if (own.row0 > 0 || cyclic0) {
      const below = (me - 1 + count) % count;
      ready(below, 1);
      this.row(-1).set(faces[below]!.subarray(half + rowCells, half + 2 * rowCells));
    }
    if (own.row0 + own.rows < side0 || cyclic0) {
      const above = (me + 1) % count;
      ready(above, 0);
      this.row(own.rows).set(faces[above]!.subarray(half, half + rowCells));
    }
  }

  /**
   * Starts the slab's summary: a line's last-axis blocks end before `ends[j]` (cells from the
   * line's start); least and greatest open value and blocked count start empty.
   */
  startSummary(ends: Int32Array): void {
    const L = this.layout;
    new Int32Array(this.exports.memory.buffer, L.ends, ends.length).set(ends);
    const acc = new Float32Array(this.exports.memory.buffer, L.acc, 3);
    acc[0] = Infinity;
    acc[1] = -Infinity;
    new Int32Array(this.exports.memory.buffer, L.acc + 8, 1)[0] = 0;
    this.blocks = ends.length;
    this.sums = new Float64Array(this.exports.memory.buffer, L.sums, this.blocks);
  }

  /** Sums the open cells of each block of the line starting at slab cell `c0`, the sums in the returned view (reused by the next call). */
  lineSums(c0: number): Float64Array {
    const L = this.layout;
    this.exports.lineSums(L.field + (this.rowCells + c0) * 4, L.codes + c0, L.ends, this.blocks, L.sums, L.acc);
    return this.sums;
  }

  /** The least and greatest open value over the summed lines, and the blocked cells among them. */
  endSummary(): { min: number; max: number; blocked: number } {
    const acc = new Float32Array(this.exports.memory.buffer, this.layout.acc, 2);
    return { min: acc[0]!, max: acc[1]!, blocked: new Int32Array(this.exports.memory.buffer, this.layout.acc + 8, 1)[0]! };
  }

  /** Bytes of the instance's memory this run's layout takes (whole pages; a kept memory may be larger). */
  get bytes(): number {
    return Math.ceil(this.layout.total / WASM_PAGE) * WASM_PAGE;
  }

  /** Hands the instance back for the thread's next run, when its memory is small enough to keep; call once, after the last use. */
  release(): void {
    kept.release(this.exports);
  }

  /**
   * Builds the slab's conductance codes (conductance-codes.ts) in the instance, then clears the
   * mask's bytes, so the field it shared room with starts at zero.
   *
   * @param open - global cells open whatever the obstacles say (the job's sources)
   * @param tick - called before each row with the rows done; may throw to stop
   */
  buildCodes(lattice: Lattice, slab: Slab, open: readonly number[], tick: (rows: number) => void): void {
    const { codeSpan, codeAdd, codeEnds } = this.exports;
    const L = this.layout;
    fillCodesMask(lattice, slab, open, this.mask);
    mark('mask');
    const d = lattice.shape.length;
    const rowCells = lattice.strides[0]!;
    const n = lattice.shape[d - 1]!;
    const wrapLine = lattice.periodic[d - 1] === true && n > 2 ? 1 : 0;
    const lineCount = 2 * d - 2;
    const offsets = new Int32Array(Math.max(4, lineCount));
    for (let r = 0; r < slab.rows; r++) {
      tick(r);
      const here = L.work + (r + 1) * rowCells;
      const codes = L.codes + r * rowCells;
      for (const { at, lines, middle } of this.spans) {
        offsets.fill(L.maskZero - here);
        offsets[0] = -rowCells;
        offsets[1] = rowCells;
        // Middle offsets are in float32 bytes: the mask has a byte per cell.
        for (let k = 0; k < middle.length; k++) if (middle[k] !== MISSING) offsets[2 + k] = middle[k]! / 4;
        const cells = lines * n;
        codeSpan(codes + at, here + at, cells, offsets[0]!, offsets[1]!, offsets[2]!, offsets[3]!);
        for (let k = 4; k < lineCount; k++) codeAdd(codes + at, here + at, cells, offsets[k]!);
        codeEnds(codes + at, here + at, lines, n, wrapLine);
      }
    }
    // Only the mask's bytes were written: the rest of the work region reads as zeros already
    // (`kept.take`), and clearing it all up front would fault in every field page at once, in one
    // call that no cancel check interrupts (a 200³ slab: 32 MB, hundreds of ms on a busy machine).
    mark('coded');
    this.mask.fill(0);
    mark('codes');
  }

  /**
   * Steps the field in place; its halo rows must hold the neighbour slabs' edge rows
   * (`takeHalos`). Upwards, row r's new values go to row buffer r mod 2 and are copied back once
   * row r + 1 is computed, the last step that reads row r's old values; downwards (`down`, on 3
   * or more axes), once row r - 1 is. Either order gives the same values.
   *
   * @param tick - called before each row with the rows done (on 2 axes, before each chunk of
   *   `chunkRows` rows, with its first row); may throw to stop (the field is then half stepped)
   * @param chunkRows - rows a 2-D step computes in one call into the instance
   * @param down - from the last row to the first (3 or more axes; 2 axes always step upwards)
   * @param final - called with each row once its new values are in the field (3 or more axes)
   */
  step(lattice: Lattice, alpha: number, tick: (row: number) => void, chunkRows = 1, down = false, final?: (row: number) => void): void {
    const { span, span4, lineEnds, accumulate } = this.exports;
    const L = this.layout;
    const { shape } = lattice;
    const d = shape.length;
    const rowCells = this.rowCells;
    const rowBytes = rowCells * 4;
    const n = shape[d - 1]!;
    const wrapLine = lattice.periodic[d - 1] === true && n > 2 ? 1 : 0;
    if (d === 2) {
      // A row is one line: whole chunks of rows in one call, the same sums as the loop below.
      const field = L.field + rowBytes;
      for (let r = 0; r < this.rows; r += chunkRows) {
        tick(r);
        this.exports.rows2d(field, L.codes, r, Math.min(this.rows, r + chunkRows), this.rows, n, wrapLine, alpha, L.buffers[0], L.buffers[1], L.zero);
      }
      return;
    }
    const lineCount = 2 * d - 2;
    const spans = this.spans;
    const offsets = new Int32Array(Math.max(4, lineCount));
    const from = L.field + rowBytes;
    const f32 = this.f32;
    const writeBack = (r: number): void => {
      const at = L.buffers[r & 1]! >> 2;
      f32.copyWithin((from >> 2) + r * rowCells, at, at + rowCells);
      final?.(r);
    };
    const rows = this.rows;
    for (let done = 0; done < rows; done++) {
      tick(done);
      const r = down ? rows - 1 - done : done;
      const here = from + r * rowBytes;
      const zero = L.zero - here;
      const codes = L.codes + r * rowCells;
      const to = L.buffers[r & 1]!;
      for (const { at, lines, middle } of spans) {
        offsets.fill(zero);
        // The rows either side are the field's own rows or its halo rows (zero when missing).
        offsets[0] = -rowBytes;
        offsets[1] = rowBytes;
        for (let m = 0; m < middle.length; m++) if (middle[m] !== MISSING) offsets[2 + m] = middle[m]!;
        let o3 = offsets[3]!;
        const u = here + at * 4;
        if (lineCount > 4) {
          // Lines past the fourth: summed into the scratch row, read as the fourth.
          for (let m = 3; m < lineCount; m++) accumulate(L.scratch + at * 4, u + offsets[m]!, lines * n, m === 3 ? 1 : 0);
          o3 = L.scratch - here;
        }
        const out = to + at * 4;
        // On 2 axes there are no middle lines: skip the two loads of zeros per group of cells.
        if (lineCount === 2) span4(out, u, codes + at, lines * n, offsets[0]!, offsets[1]!, alpha);
        else span(out, u, codes + at, lines * n, offsets[0]!, offsets[1]!, offsets[2]!, o3, alpha);
        lineEnds(out, u, codes + at, lines, n, wrapLine, offsets[0]!, offsets[1]!, offsets[2]!, o3, alpha);
      }
      if (down ? r < rows - 1 : r > 0) writeBack(down ? r + 1 : r - 1);
    }
    if (rows > 0) writeBack(down ? 0 : rows - 1);
  }
}
