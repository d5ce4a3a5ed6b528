/**
 * One spare WebAssembly instance per module per thread, kept between runs. A fresh instance's
 * pages are mapped on first write, at ~3 ms of CPU per MiB on the 2-core VM
 * (docs/performance.md › Kept kernel memory), so a kernel that instantiates per run pays that on
 * every run. Runs are not concurrent within a thread, so one spare per module is enough. A run
 * reports (and its job reserves) only its own layout's pages; what a thread keeps between runs, at
 * most `KEEP_BYTES` for all modules together, is per-thread headroom (docs/architecture.md › Kernels).
 */
import { WASM_PAGE, instantiate, type WasmMemory } from './wasm-runtime.ts';

/**
 * Most memory a thread keeps between runs, all modules' spares together: a one-thread diffusion
 * of 10^7 cells (the Starter plan's `max_cells`; 216³ takes 49 MiB at 5 bytes a cell) with the
 * few MiB the path and components modules keep at that size beside it. At 32 MiB such a run
 * mapped its memory afresh every time (docs/performance.md › Kept kernel memory at 64 MiB).
 */
export const KEEP_BYTES = 64 * 2 ** 20;

/** This thread's modules with a spare: the latest release wins the room. */
const holders = new Set<KeptInstances<{ memory: WasmMemory }>>();

/** A module's spare instance in this thread. */
export class KeptInstances<E extends { memory: WasmMemory }> {
  private spare: E | null = null;

  constructor(private readonly module: () => object) {}

  /**
   * An instance whose memory holds at least `bytes` (whole pages) and reads as zeros up to
   * there, exactly as a fresh instance: the spare one when kept, zeroed over what is asked.
   */
  take(bytes: number): E {
    const kept = this.spare;
    this.drop();
    const exports = kept ?? instantiate<E>(this.module());
    const memory = exports.memory;
    const have = memory.buffer.byteLength;
    const pages = Math.ceil(bytes / WASM_PAGE);
    if (pages * WASM_PAGE > have) memory.grow(pages - have / WASM_PAGE);
    // A kept memory holds the last run's bytes; pages grown past `have` (and a fresh memory) are zero already.
    if (kept !== null) new Uint8Array(memory.buffer, 0, Math.min(have, bytes)).fill(0);
    return exports;
  }

  /** The spare instance, if any (tests fill its memory with garbage). */
  peek(): E | null {
    return this.spare;
  }

  /**
   * Keeps the instance for the thread's next run when its memory is small enough, dropping other
   * modules' spares as needed to stay within `KEEP_BYTES`; call once, after the last use.
   */
  release(exports: E): void {
    const bytes = exports.memory.buffer.byteLength;
    if (bytes > KEEP_BYTES) return;
    this.drop();
    let total = bytes;
    for (const other of holders) total += other.spareBytes();
    for (const other of holders) {
      if (total <= KEEP_BYTES) break;
      total -= other.spareBytes();
      other.drop();
    }
    this.spare = exports;
    holders.add(this as unknown as KeptInstances<{ memory: WasmMemory }>);
  }

  private spareBytes(): number {
    return this.spare?.memory.buffer.byteLength ?? 0;
  }

  private drop(): void {
    this.spare = null;
    holders.delete(this as unknown as KeptInstances<{ memory: WasmMemory }>);
  }
}
