/**
 * The diffusion step in WebAssembly SIMD (worker/kernels/wasm/diffusion-stencil.wat), four
 * float32 cells at a time, one module instance per slab thread copying rows of the shared fields in
 * and out. See docs/architecture.md › Kernels.
 */
import type { Slab } from './slabs.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { codesMaskBytes, fillCodesMask } from './conductance-codes.ts';
import { WASM_PAGE, compileWasm, instantiate, type WasmMemory } from './wasm-runtime.ts';

interface StencilExports {
  memory: WasmMemory;
  span(out: number, u: number, codes: number, cells: number, o0: number, o1: number, o2: number, o3: number, alpha: number): void;
  lineEnds(out: number, u: number, codes: number, lines: number, n: number, wrap: number, o0: number, o1: number, o2: number, o3: number, alpha: number): void;
  accumulate(dst: number, src: number, cells: number, first: number): void;
  codeSpan(codes: number, mask: number, cells: number, o0: number, o1: number, o2: number, o3: number): void;
  codeAdd(codes: number, mask: number, cells: number, o: number): void;
  codeEnds(codes: number, mask: number, lines: number, n: number, wrap: number): void;
}

let compiled: object | null = null;

/** The assembled module, compiled once per thread. */
function stencilModule(): object {
  compiled ??= compileWasm(new URL('./wasm/diffusion-stencil.wasm', import.meta.url));
  return compiled;
}

/** Slack around each region: the SIMD loops read a cell either side and write up to 16 bytes past a span. */
const PAD = 32;
/** Most memory a slab's instance may take; a larger slab keeps the JavaScript stencil. */
const MAX_BYTES = 2 ** 31;

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** Byte addresses of a slab instance's regions. */
interface Layout {
  codes: number;
  /** The mask while the codes are built, then the rows. */
  work: number;
  /** A row of zero mask bytes (missing neighbour lines) while the codes are built. */
  maskZero: number;
  rowBytes: number;
  zero: number;
  ring: [number, number, number];
  out: number;
  scratch: number;
  total: number;
}

function layoutOf(lattice: Lattice, slab: Slab): Layout {
  const rowCells = lattice.strides[0]!;
  const codes = PAD;
  const work = align(codes + slab.cells + PAD);
  const rowBytes = align(rowCells * 4 + 2 * PAD);
  const row = (k: number): number => work + k * rowBytes + PAD;
  const rows = work + 6 * rowBytes;
  const maskZero = align(work + codesMaskBytes(lattice, slab) + PAD) + PAD;
  const total = Math.max(rows, maskZero + rowCells + PAD);
  return { codes, work, maskZero, rowBytes, zero: row(0), ring: [row(1), row(2), row(3)], out: row(4), scratch: row(5), total };
}

/** Whether a slab can step in WebAssembly: a row of lines along the last axis, and a memory that fits. */
export function wasmStencilFits(lattice: Lattice, slab: Slab): boolean {
  return lattice.shape.length >= 2 && layoutOf(lattice, slab).total <= MAX_BYTES;
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
  const wrap = lattice.boundary === 'periodic';
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
      const cyclic = wrap && side > 2;
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

  constructor(lattice: Lattice, slab: Slab) {
    this.layout = layoutOf(lattice, slab);
    this.exports = instantiate<StencilExports>(stencilModule());
    const memory = this.exports.memory;
    const pages = Math.ceil(this.layout.total / WASM_PAGE);
    memory.grow(pages - memory.buffer.byteLength / WASM_PAGE);
    this.codes = new Uint8Array(memory.buffer, this.layout.codes, slab.cells);
    this.mask = new Uint8Array(memory.buffer, this.layout.work, codesMaskBytes(lattice, slab));
    this.f32 = new Float32Array(memory.buffer);
    this.spans = spansOf(lattice);
  }

  /** Bytes of the instance's memory. */
  get bytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /**
   * Builds the slab's conductance codes (conductance-codes.ts) in the instance, then clears the
   * mask's bytes for the rows.
   *
   * @param open - global cells open whatever the obstacles say (the job's sources)
   * @param tick - called before each row with the rows done; may throw to stop
   */
  buildCodes(lattice: Lattice, slab: Slab, open: readonly number[], tick: (rows: number) => void): void {
    const { codeSpan, codeAdd, codeEnds } = this.exports;
    const L = this.layout;
    fillCodesMask(lattice, slab, open, this.mask);
    const d = lattice.shape.length;
    const rowCells = lattice.strides[0]!;
    const n = lattice.shape[d - 1]!;
    const wrapLine = lattice.boundary === 'periodic' && n > 2 ? 1 : 0;
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
    new Uint8Array(this.exports.memory.buffer, L.work, L.total - L.work).fill(0);
  }

  /**
   * Computes `next` (this slab's) from `current` (every slab's, for the rows either side).
   *
   * @param tick - called before each row; may throw to stop
   */
  step(lattice: Lattice, slabs: readonly Slab[], me: number, current: readonly Float32Array[], next: Float32Array, alpha: number, tick: (row: number) => void): void {
    const { span, lineEnds, accumulate } = this.exports;
    const L = this.layout;
    const f32 = this.f32;
    const own = slabs[me]!;
    const { shape, strides } = lattice;
    const d = shape.length;
    const rowCells = strides[0]!;
    const side0 = shape[0]!;
    const wrap = lattice.boundary === 'periodic';
    const cyclic0 = wrap && side0 > 2;
    const n = shape[d - 1]!;
    const wrapLine = wrap && n > 2 ? 1 : 0;
    const slabCount = slabs.length;
    const below = (me - 1 + slabCount) % slabCount;
    const above = (me + 1) % slabCount;
    const u = current[me]!;
    const rowBytes = rowCells * 4;
    // Where local row q (-1 ≤ q ≤ rows) lies in the ring, or the zero row when it does not exist.
    const slotOf = (q: number): number => L.ring[(q + 3) % 3]!;
    const load = (q: number): number => {
      let field: Float32Array | null = null;
      let base = 0;
      if (q >= 0 && q < own.rows) {
        field = u;
        base = q * rowCells;
      } else if (q < 0 && (own.row0 > 0 || cyclic0)) {
        field = current[below]!;
        base = (slabs[below]!.rows - 1) * rowCells;
      } else if (q >= own.rows && (own.row0 + own.rows < side0 || cyclic0)) {
        field = current[above]!;
      }
      if (field === null) return L.zero;
      const at = slotOf(q);
      f32.set(field.subarray(base, base + rowCells), at >> 2);
      return at;
    };
    const lineCount = 2 * d - 2;
    const spans = this.spans;
    const offsets = new Int32Array(Math.max(4, lineCount));
    let down = load(-1);
    let here = load(0);
    for (let r = 0; r < own.rows; r++) {
      tick(r);
      const up = load(r + 1);
      const zero = L.zero - here;
      const codes = L.codes + r * rowCells;
      for (const { at, lines, middle } of spans) {
        offsets.fill(zero);
        offsets[0] = down - here;
        offsets[1] = up - here;
        for (let k = 0; k < middle.length; k++) if (middle[k] !== MISSING) offsets[2 + k] = middle[k]!;
        let o3 = offsets[3]!;
        const from = here + at * 4;
        if (lineCount > 4) {
          // Lines past the fourth: summed into the scratch row, read as the fourth.
          for (let k = 3; k < lineCount; k++) accumulate(L.scratch + at * 4, from + offsets[k]!, lines * n, k === 3 ? 1 : 0);
          o3 = L.scratch - here;
        }
        const out = L.out + at * 4;
        span(out, from, codes + at, lines * n, offsets[0]!, offsets[1]!, offsets[2]!, o3, alpha);
        lineEnds(out, from, codes + at, lines, n, wrapLine, offsets[0]!, offsets[1]!, offsets[2]!, o3, alpha);
      }
      next.set(f32.subarray(L.out >> 2, (L.out + rowBytes) >> 2), r * rowCells);
      down = here;
      here = up;
    }
  }
}
