/**
 * Two builds of worker/kernels/wasm/diffusion-stencil.wasm side by side in one process, on the
 * same 2-D periodic field (random codes, density 0.3): best CPU ns per cell-step of `span4` and
 * `lineEnds` per row with the row copied back from JavaScript (as the 2-D step ran before
 * `rows2d`), and of `rows2d` where the build has it, alternating, `reps` rounds of 5 steps; then
 * whether every variant's field is bit for bit the same.
 *
 *   git show main:worker/kernels/wasm/diffusion-stencil.wasm > /tmp/old.wasm
 *   node --import tsx bench/lattice/diffusion-wasm-ab.ts /tmp/old.wasm [NEW_WASM] [side] [reps]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { instantiate, type WasmMemory } from '../../worker/kernels/wasm-runtime.ts';

interface Exports {
  memory: WasmMemory;
  span4(out: number, u: number, codes: number, cells: number, o0: number, o1: number, alpha: number): void;
  lineEnds(out: number, u: number, codes: number, lines: number, n: number, wrap: number, o0: number, o1: number, o2: number, o3: number, alpha: number): void;
  rows2d?(field: number, codes: number, from: number, to: number, rows: number, n: number, wrap: number, alpha: number, buf0: number, buf1: number, zero: number): void;
}

const oldPath = process.argv[2]!;
const newPath = process.argv[3] ?? fileURLToPath(new URL('../../worker/kernels/wasm/diffusion-stencil.wasm', import.meta.url));
const side = Number(process.argv[4] ?? 1024);
const reps = Number(process.argv[5] ?? 30);
const STEPS = 5;
const ALPHA = 0.2;
const n = side;
const rowBytes = n * 4;

/** An instance with the same random codes and field as every other. */
function make(path: string): { e: Exports; codes: number; field: number; buf0: number; buf1: number; zero: number; f32: Float32Array } {
  const e = instantiate<Exports>(new (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object } }).WebAssembly.Module(readFileSync(path)));
  const codes = 64;
  const field = Math.ceil((codes + n * side + 64) / 16) * 16 + rowBytes + 64;
  const buf0 = field + (side + 1) * rowBytes + 64;
  const buf1 = buf0 + rowBytes + 64;
  const zero = buf1 + rowBytes + 64;
  const total = zero + rowBytes + 64;
  e.memory.grow(Math.ceil(total / 65536));
  const u8 = new Uint8Array(e.memory.buffer);
  const f32 = new Float32Array(e.memory.buffer);
  let seed = 7;
  for (let i = 0; i < n * side; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const blocked = (seed >>> 16) % 10 < 3;
    u8[codes + i] = blocked ? 128 + (seed & 3) : (seed >>> 8) % 5;
    if (!blocked) f32[(field >> 2) + i] = (seed >>> 4) % 100;
  }
  return { e, codes, field, buf0, buf1, zero, f32 };
}
type Instance = ReturnType<typeof make>;

/** One step, a call per row and the copy back in JavaScript. */
function stepRows(m: Instance): void {
  const { e, codes, field, buf0, buf1, zero, f32 } = m;
  for (let r = 0; r < side; r++) {
    const here = field + r * rowBytes;
    const to = r & 1 ? buf1 : buf0;
    e.span4(to, here, codes + r * n, n, -rowBytes, rowBytes, ALPHA);
    e.lineEnds(to, here, codes + r * n, 1, n, 1, -rowBytes, rowBytes, zero - here, zero - here, ALPHA);
    if (r > 0) {
      const at = (r & 1 ? buf0 : buf1) >> 2;
      f32.copyWithin((here - rowBytes) >> 2, at, at + n);
    }
  }
  const at = ((side - 1) & 1 ? buf1 : buf0) >> 2;
  f32.copyWithin((field >> 2) + (side - 1) * n, at, at + n);
}

/** One step in one call. */
function stepFused(m: Instance): void {
  m.e.rows2d!(m.field, m.codes, 0, side, side, n, 1, ALPHA, m.buf0, m.buf1, m.zero);
}

const variants: [string, Instance, (m: Instance) => void][] = [
  ['old_rows', make(oldPath), stepRows],
  ['new_rows', make(newPath), stepRows],
];
const fused = make(newPath);
if (fused.e.rows2d) variants.push(['new_rows2d', fused, stepFused]);
const cpuMs = (): number => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};
const best: Record<string, number> = {};
const load = loadavg().map((x) => Number(x.toFixed(1)));
for (let rep = 0; rep < reps; rep++) {
  for (const [name, m, step] of variants) {
    const started = cpuMs();
    for (let s = 0; s < STEPS; s++) step(m);
    const ns = ((cpuMs() - started) * 1e6) / (STEPS * n * side);
    best[name] = Math.min(best[name] ?? Infinity, ns);
  }
}
const [, first] = variants[0]!;
let differing = 0;
for (const [, m] of variants.slice(1)) {
  for (let i = 0; i < n * side; i++) if (m.f32[(m.field >> 2) + i] !== first.f32[(first.field >> 2) + i]) differing++;
}
console.log(
  JSON.stringify({
    side,
    reps,
    load_average: load,
    best_ns_per_cell_step: Object.fromEntries(Object.entries(best).map(([k, v]) => [k, Number(v.toFixed(3))])),
    cells_differing_from_old: differing,
  }),
);
