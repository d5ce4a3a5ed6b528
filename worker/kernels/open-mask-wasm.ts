/**
 * The procedural obstacle rule in WebAssembly SIMD (worker/kernels/wasm/open-mask.wat): the
 * lowbias32 hash of 16 cells at a time, as bytes or as bit words. The module writes into its own
 * small memory, a chunk at a time, and the chunk is copied out, so callers keep their arrays.
 */
import { compileWasm, instantiate, type WasmMemory } from './wasm-runtime.ts';

interface OpenMaskExports {
  memory: WasmMemory;
  fillBytes(count: number, h0: number, threshold: number): void;
  fillBits(lines: number, n: number, h0: number, threshold: number): void;
}

/** Bytes the module may write per call (its memory is 17 pages: a chunk plus slack). */
const CHUNK_BYTES = 1 << 20;

/** Longest line (in words) the bit fill takes: one line must fit a chunk. */
export const MAX_WASM_LINE_WORDS = CHUNK_BYTES / 4;

let instance: { exports: OpenMaskExports; bytes: Uint8Array; words: Int32Array } | null = null;

/** The thread's instance, made on first use. */
function openMask(): NonNullable<typeof instance> {
  if (instance === null) {
    const exports = instantiate<OpenMaskExports>(compileWasm(new URL('./wasm/open-mask.wasm', import.meta.url)));
    instance = { exports, bytes: new Uint8Array(exports.memory.buffer), words: new Int32Array(exports.memory.buffer) };
  }
  return instance;
}

/**
 * `mask[at + i]` = 1 when cell `start + i` is open, 0 when blocked, for i < count.
 *
 * @param hash - the hash input of cell `start` ((start + offset) mod 2^32)
 * @param threshold - blocked below it (0 < threshold < 2^32)
 */
export function fillProceduralBytesWasm(mask: Uint8Array, at: number, count: number, hash: number, threshold: number): void {
  const { exports, bytes } = openMask();
  for (let done = 0; done < count; done += CHUNK_BYTES) {
    const chunk = Math.min(CHUNK_BYTES, count - done);
    exports.fillBytes(chunk, (hash + done) | 0, threshold | 0);
    mask.set(bytes.subarray(0, chunk), at + done);
  }
}

/** The bit words of `lines` lines of `lineCells` cells (open-mask.ts layout) into `words` from 0. */
export function fillProceduralBitsWasm(words: Int32Array, lines: number, lineCells: number, perLine: number, hash: number, threshold: number): void {
  const { exports, words: out } = openMask();
  const linesPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / (4 * perLine)));
  for (let line = 0; line < lines; line += linesPerChunk) {
    const chunk = Math.min(linesPerChunk, lines - line);
    exports.fillBits(chunk, lineCells, (hash + line * lineCells) | 0, threshold | 0);
    words.set(out.subarray(0, chunk * perLine), line * perLine);
  }
}

/**
 * ORs the blocked bits of cells [from, to) of a plane indexed from cell 0 (1 = blocked: the
 * complement of the open bits) into `bits`, leaving every other bit as it was.
 *
 * @param hash - the hash input of the plane's cell 0 (its global index plus the offset)
 * @param threshold - blocked below it (0 < threshold < 2^32)
 */
export function orBlockedBitsWasm(bits: Int32Array, from: number, to: number, hash: number, threshold: number): void {
  if (to <= from) return;
  const { exports, words: out } = openMask();
  const firstWord = Math.floor(from / 32);
  const lastWord = Math.floor((to - 1) / 32);
  // The range's bits of its first and last words. Only ORs: other bits of those words may be
  // written meanwhile (by a neighbouring slab's thread).
  const headKeep = -1 << (from & 31);
  const tailKeep = (to & 31) === 0 ? -1 : (1 << (to & 31)) - 1;
  for (let first = firstWord; first <= lastWord; first += MAX_WASM_LINE_WORDS) {
    const count = Math.min(MAX_WASM_LINE_WORDS, lastWord + 1 - first);
    exports.fillBits(1, 32 * count, (hash + 32 * first) | 0, threshold | 0);
    for (let k = 0; k < count; k++) {
      const w = first + k;
      let blocked = ~out[k]!;
      if (w === firstWord) blocked &= headKeep;
      if (w === lastWord) blocked &= tailKeep;
      bits[w]! |= blocked;
    }
  }
}
