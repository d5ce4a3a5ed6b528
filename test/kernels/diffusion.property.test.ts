/**
 * diffusion against a double-precision reference loop on random small lattices, with 1, 2 and
 * 4 slab threads, the whole field it hands over (per slab, for its artefact) cell by cell too;
 * and conservation of heat without sources.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleShape } from '../../worker/kernels/field-sample.ts';
import { resolveJob } from '../../shared/lattice/job.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { diffusionCaseArb } from '../lattice/arbitraries.ts';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { KEEP_BYTES, WasmStencil } from '../../worker/kernels/diffusion-wasm.ts';
import { BLOCKED } from '../../worker/kernels/conductance-codes.ts';
import { planSlabs } from '../../worker/kernels/slabs.ts';
import { refBlocked, refDiffusion, refSample } from '../lattice/reference.ts';

const pool = new KernelPool({ threads: 4 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

/** Float32 keeps about 7 digits; a dozen steps of rounding stay well inside this. */
const RELATIVE = 1e-5;

function close(actual: number, expected: number, scale: number): boolean {
  return Math.abs(actual - expected) <= RELATIVE * scale + 1e-9;
}

describe('diffusion', () => {
  it('matches the reference field, totals and extremes', async () => {
    let lattices = 0;
    await fc.assert(
      fc.asyncProperty(diffusionCaseArb(), async ({ spec, params }) => {
        lattices++;
        const job = resolveJob('diffusion', spec, params);
        const field = refDiffusion(job.lattice, job.params);
        const open = [...job.params.sources, ...job.params.initial].map((p) => p.index);
        const blocked = refBlocked(job.lattice, open);
        const openValues = Array.from(field).filter((_, i) => blocked[i] === 0);
        const total = openValues.reduce((sum, v) => sum + v, 0);
        const scale = Math.max(1, ...openValues.map(Math.abs), Math.abs(total));
        const sampled = sampleShape(job.lattice.shape);
        const values = refSample(job.lattice, field, sampled);
        for (const threads of [1, 2, 4]) {
          let slabs: readonly Float32Array[] = [];
          const result = await pool.run('diffusion', spec, params, { threads, onField: (kept) => (slabs = kept) });
          const where = `${JSON.stringify(spec)} ${JSON.stringify(params)} threads ${threads}`;
          // The slabs, in order, are the whole field: every cell as the reference has it.
          expect(slabs.reduce((cells, slab) => cells + slab.length, 0), where).toBe(job.lattice.cells);
          let at = 0;
          for (const slab of slabs) {
            for (const value of slab) {
              const expected = blocked[at] ? 0 : field[at]!;
              expect(close(value, expected, scale), `${where} cell ${at}: ${value} vs ${expected}`).toBe(true);
              at++;
            }
          }
          expect(close(result.total_heat, total, scale), `${where} total ${result.total_heat} vs ${total}`).toBe(true);
          const min = openValues.length > 0 ? Math.min(...openValues) : 0;
          const max = openValues.length > 0 ? Math.max(...openValues) : 0;
          expect(close(result.min, min, scale), `${where} min`).toBe(true);
          expect(close(result.max, max, scale), `${where} max`).toBe(true);
          expect(close(result.mean, openValues.length > 0 ? total / openValues.length : 0, scale), `${where} mean`).toBe(true);
          expect(result.field.shape, where).toEqual(sampled);
          result.field.values.forEach((value, i) => expect(close(value, values[i]!, scale), `${where} field[${i}]`).toBe(true));
        }
      }),
      { numRuns: 500 },
    );
    expect(lattices).toBeGreaterThanOrEqual(500);
  }, 120_000);

  it("steps a thread's kept stencil instance exactly as a fresh one, whatever the last run left in it", () => {
    const run = (shape: number[], boundary: 'open' | 'periodic', dirty: boolean): Float32Array => {
      const lattice = resolveLattice({ shape, boundary, obstacles: { density: 0.3, seed: 5 } });
      const own = planSlabs(lattice, 1)[0]!;
      const stencil = new WasmStencil(lattice, own);
      try {
        stencil.buildCodes(lattice, own, [], () => {});
        // Heat on every open cell, so every code and every halo takes part.
        const initial = stencil.field();
        for (let i = 0; i < own.cells; i++) if ((stencil.codes[i]! & BLOCKED) === 0) initial[i] = 1 + (i % 7);
        for (let step = 0; step < 6; step++) stencil.step(lattice, 0.2, () => {});
        const out = stencil.field().slice();
        // What a run may leave behind: every byte of its memory garbage (NaN as float32).
        if (dirty) new Uint8Array(stencil.codes.buffer).fill(0xff);
        return out;
      } finally {
        stencil.release();
      }
    };
    // A larger run first (kept: under KEEP_BYTES), then smaller and differently shaped ones in its memory.
    expect(4 * 2 * 300 * 300).toBeLessThan(KEEP_BYTES);
    run([300, 300], 'periodic', true);
    const kept = run([37, 21, 9], 'open', true);
    run([300, 300], 'open', true);
    const fresh = run([37, 21, 9], 'open', false);
    // Two instances at once: the second cannot be the kept one.
    const lattice = resolveLattice({ shape: [37, 21, 9], boundary: 'open', obstacles: { density: 0.3, seed: 5 } });
    const holder = new WasmStencil(lattice, planSlabs(lattice, 1)[0]!);
    const second = run([37, 21, 9], 'open', false);
    holder.release();
    expect(Array.from(kept)).toEqual(Array.from(fresh));
    expect(Array.from(second)).toEqual(Array.from(fresh));
    expect(fresh.some((value) => value > 0 && !Number.isInteger(value))).toBe(true);
  });

  it("keeps a one-thread slab of 10^7 cells (the Starter plan's largest lattice) for the next run", () => {
    const lattice = resolveLattice({ shape: [216, 216, 216], boundary: 'open', obstacles: { density: 0.2, seed: 5 } });
    const own = planSlabs(lattice, 1)[0]!;
    const first = new WasmStencil(lattice, own);
    const memory = first.codes.buffer;
    first.release();
    const next = new WasmStencil(lattice, own);
    try {
      // The same pages, not a fresh instance's: a memory not grown keeps its buffer. Compared as
      // a boolean: a failing toBe would print two 50 MiB buffers.
      expect(next.codes.buffer === memory, `a ${first.bytes}-byte memory was not kept`).toBe(true);
    } finally {
      next.release();
    }
  });

  it('conserves total heat to float32 precision without sources', async () => {
    const initial = [
      { cell: [5, 5, 5], value: 1000 },
      { cell: [30, 2, 17], value: 250.5 },
    ];
    const spec = { shape: [40, 24, 24], obstacles: { density: 0.3, seed: 11 } };
    for (const threads of [1, 2]) {
      const result = await pool.run('diffusion', spec, { steps: 300, alpha: 1 / 6, initial }, { threads });
      // 300 steps, each rounding every cell to float32 (2^-24 relative), errors partly cancelling.
      expect(Math.abs(result.total_heat - 1250.5) / 1250.5).toBeLessThan(300 * 2 ** -24);
      expect(result.min).toBeGreaterThanOrEqual(0);
    }
  });

  it('adds each source once per step', async () => {
    const spec = { shape: [16, 16], boundary: 'periodic' as const };
    const result = await pool.run('diffusion', spec, { steps: 50, alpha: 0.2, sources: [{ cell: [3, 3], value: 2 }] });
    expect(result.total_heat).toBeCloseTo(100, 3);
  });

  it('keeps heat out of blocked cells and inside an enclosure', async () => {
    // A ring of blocked cells around [2, 2] holds its heat in.
    const ring = [[1, 1], [1, 2], [1, 3], [2, 1], [2, 3], [3, 1], [3, 2], [3, 3]];
    const spec = { shape: [6, 6], obstacles: { blocked: ring } };
    const result = await pool.run('diffusion', spec, { steps: 20, alpha: 0.25, initial: [{ cell: [2, 2], value: 7 }] });
    expect(result.max).toBeCloseTo(7, 5);
    expect(result.field.values[2 * 6 + 2]).toBeCloseTo(7, 5);
    expect(result.field.values[1 * 6 + 1]).toBe(0);
  });

  it('downsamples a large field to at most 4096 values', async () => {
    const spec = { shape: [300, 200] };
    const result = await pool.run('diffusion', spec, { steps: 1, alpha: 0.25, initial: [{ cell: [0, 0], value: 6e4 }] });
    expect(result.field.shape).toEqual([75, 50]);
    expect(result.field.values).toHaveLength(3750);
    const cellsPerBlock = 4 * 4;
    const sum = result.field.values.reduce((s, v) => s + v * cellsPerBlock, 0);
    expect(sum).toBeCloseTo(6e4, 2);
  });
});
