/**
 * The part of the WebAssembly JavaScript API the kernels use, typed here: the project's
 * TypeScript libraries (ES and Node, no DOM) do not declare the `WebAssembly` global.
 */
import { readFileSync } from 'node:fs';

/** A module's exported, non-shared memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { exports: Record<string, unknown> };
}

const api = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Bytes of a WebAssembly page. */
export const WASM_PAGE = 65536;

/** Compiles a committed .wasm file (synchronously: kernels run in worker threads). */
export function compileWasm(url: URL): object {
  return new api.Module(readFileSync(url));
}

/** A new instance of a compiled module, its exports typed as `T`; `imports` for a module that calls out. */
export function instantiate<T>(module: object, imports: object = {}): T {
  return new api.Instance(module, imports).exports as unknown as T;
}

/** A shared WebAssembly memory: posted to other threads, its buffer a SharedArrayBuffer. */
export interface SharedWasmMemory {
  readonly buffer: SharedArrayBuffer;
}

/** A shared memory of exactly `pages` pages (zeroed), for modules that import one. */
export function sharedWasmMemory(pages: number): SharedWasmMemory {
  const Memory = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number; shared: boolean }) => SharedWasmMemory } }).WebAssembly.Memory;
  return new Memory({ initial: pages, maximum: pages, shared: true });
}
