/**
 * The WebAssembly stencil's 2-D path (`rows2d`: chunks of rows in one call, each row's new
 * values copied back once the next row is computed) and its SIMD summary (`lineSums`), on random
 * 2-D lattices of odd and even sides, periodic and open per axis, against the double-precision
 * reference and a plain loop; chunk edges fall anywhere in the slab, blocked cells hold garbage.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { resolveJob } from '../../shared/lattice/job.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { BLOCKED } from '../../worker/kernels/conductance-codes.ts';
import { WasmStencil, faceBufferCells } from '../../worker/kernels/diffusion-wasm.ts';
import { planSlabs } from '../../worker/kernels/slabs.ts';
import { refBlocked, refDiffusion } from '../lattice/reference.ts';

const RELATIVE = 1e-5;

const lattice2dArb = fc.record({
  shape: fc.tuple(fc.integer({ min: 1, max: 23 }), fc.integer({ min: 1, max: 37 })),
  boundary: fc.tuple(fc.constantFrom('open' as const, 'periodic' as const), fc.constantFrom('open' as const, 'periodic' as const)),
  density: fc.double({ min: 0, max: 0.6, noNaN: true }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

/** Steps a whole-lattice slab `steps` times with the 2-D path in chunks of `chunkRows` rows, as diffusion.ts runs one slab. */
function stepWhole(lattice: Lattice, initial: { index: number; value: number }[], steps: number, alpha: number, chunkRows: number): Float32Array {
  const slabs = planSlabs(lattice, 1);
  const own = slabs[0]!;
  const stencil = new WasmStencil(lattice, own);
  try {
    stencil.buildCodes(lattice, own, initial.map((p) => p.index), () => {});
    const field = stencil.field();
    for (const p of initial) field[p.index]! += p.value;
    const faces = [new Float32Array(faceBufferCells(lattice))];
    const ticks: number[] = [];
    for (let step = 0; step < steps; step++) {
      stencil.exchangeFaces(lattice, slabs, 0, faces, step, () => {});
      stencil.step(lattice, alpha, (row) => ticks.push(row), chunkRows);
    }
    // One tick per chunk, at its first row.
    if (steps > 0) expect(ticks.slice(0, Math.ceil(own.rows / chunkRows))).toEqual(Array.from({ length: Math.ceil(own.rows / chunkRows) }, (_, k) => k * chunkRows));
    return field.slice();
  } finally {
    stencil.release();
  }
}

describe('diffusion: the WebAssembly 2-D path', () => {
  it('steps chunks of rows as the reference does, wherever the chunks end', () => {
    fc.assert(
      fc.property(lattice2dArb, fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 24 }), ({ shape, boundary, density, seed }, steps, chunk) => {
        const spec = { shape, boundary, obstacles: { density, seed } };
        const lattice = resolveLattice(spec);
        const initial = [{ cell: [Math.floor(shape[0] / 2), Math.floor(shape[1] / 3)], value: 100 }, { cell: [0, shape[1] - 1], value: 7.5 }];
        const job = resolveJob('diffusion', spec, { steps, alpha: 0.2, initial });
        const expected = refDiffusion(job.lattice, job.params);
        const blocked = refBlocked(job.lattice, job.params.initial.map((p) => p.index));
        const chunkRows = Math.min(chunk, shape[0]);
        const chunked = stepWhole(lattice, job.params.initial, steps, 0.2, chunkRows);
        const whole = stepWhole(lattice, job.params.initial, steps, 0.2, shape[0]);
        // Chunks change where calls start, never the sums: bit for bit the same field.
        expect(Array.from(chunked)).toEqual(Array.from(whole));
        const scale = Math.max(1, ...Array.from(expected, Math.abs));
        for (let i = 0; i < lattice.cells; i++) {
          const want = blocked[i] ? 0 : expected[i]!;
          expect(Math.abs(chunked[i]! - want), `${JSON.stringify(spec)} steps ${steps} chunk ${chunkRows} cell ${i}`).toBeLessThanOrEqual(RELATIVE * scale);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("sums a line's blocks, least and greatest open value and blocked cells as a plain loop does", () => {
    fc.assert(
      fc.property(lattice2dArb, fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), ({ shape, boundary, density, seed }, blocksWanted, valueSeed) => {
        const lattice = resolveLattice({ shape, boundary, obstacles: { density, seed } });
        const own = planSlabs(lattice, 1)[0]!;
        const stencil = new WasmStencil(lattice, own);
        try {
          stencil.buildCodes(lattice, own, [], () => {});
          const n = shape[1];
          const blocks = Math.min(blocksWanted, n, 4096);
          const ends = new Int32Array(blocks);
          for (let x = 0; x < n; x++) ends[Math.floor((x * blocks) / n)] = x + 1;
          // Values of either sign on open cells, garbage (which the sums must ignore) on blocked ones.
          const field = stencil.field();
          let s = valueSeed;
          for (let i = 0; i < own.cells; i++) {
            s = (Math.imul(s, 1103515245) + 12345) >>> 0;
            field[i] = (stencil.codes[i]! & BLOCKED) !== 0 ? 1e30 * (s % 3 === 0 ? -1 : 1) : (s % 2001) / 7 - 100;
          }
          stencil.startSummary(ends);
          let min = Infinity;
          let max = -Infinity;
          let blocked = 0;
          for (let r = 0; r < own.rows; r++) {
            const sums = Array.from(stencil.lineSums(r * n));
            let x = 0;
            for (let j = 0; j < blocks; j++) {
              let sum = 0;
              for (; x < ends[j]!; x++) {
                const c = r * n + x;
                if ((stencil.codes[c]! & BLOCKED) !== 0) {
                  blocked++;
                  continue;
                }
                sum += field[c]!;
                min = Math.min(min, field[c]!);
                max = Math.max(max, field[c]!);
              }
              expect(Math.abs(sums[j]! - sum), `row ${r} block ${j}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(sum)));
            }
          }
          expect(stencil.endSummary()).toEqual({ min, max, blocked });
        } finally {
          stencil.release();
        }
      }),
      { numRuns: 300 },
    );
  });
});
