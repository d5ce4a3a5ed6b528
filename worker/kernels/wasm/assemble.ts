/**
 * Assembles the kernels' WebAssembly text (worker/kernels/wasm/*.wat) into the committed .wasm
 * binaries the threads load, with the `wabt` package (a development dependency: the service
 * itself needs no toolchain). A test checks that each committed binary equals a fresh assembly.
 *
 *   node --import tsx worker/kernels/wasm/assemble.ts
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The kernels' text sources, beside this file. */
export const WASM_DIR = fileURLToPath(new URL('.', import.meta.url));

export function watSources(): string[] {
  return readdirSync(WASM_DIR).filter((name) => name.endsWith('.wat'));
}

/** The binary of one .wat file (SIMD and the threads proposal's shared memory and atomics enabled). */
export async function assemble(name: string): Promise<Uint8Array> {
  const wabt = await (await import('wabt')).default();
  const features = { simd: true, threads: true };
  const parsed = wabt.parseWat(name, readFileSync(WASM_DIR + name, 'utf8'), features);
  try {
    // The typings omit validate's features argument; without it, shared memories fail validation.
    (parsed.validate as (features: object) => void).call(parsed, features);
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const name of watSources()) {
    const binary = await assemble(name);
    writeFileSync(WASM_DIR + name.replace(/\.wat$/, '.wasm'), binary);
    console.log(`${name}: ${binary.byteLength} bytes`);
  }
}
