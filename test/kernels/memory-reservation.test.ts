/**
 * A job's memory reservation (computed from its spec before anything runs) against what the
 * kernels really allocate, on random lattices of up to a few million cells: the reservation
 * covers every run, and for the dense kernel (diffusion, keeping its whole field for its artefact)
 * it stays close to it.
 */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobReservation } from '../../shared/jobs/job-memory.ts';
import { componentLabelBytes } from '../../shared/lattice/label-slabs.ts';
import type { KernelType, LatticeSpec } from '../../shared/lattice/types.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';

const THREADS = 2;
const pool = new KernelPool({ threads: THREADS });
beforeAll(() => pool.start());
afterAll(() => pool.close());

/** Shapes of 1 to 4 axes and about 10^4 to 2·10^6 cells; random obstacles and boundary. */
const specArb: fc.Arbitrary<LatticeSpec> = fc
  .integer({ min: 1, max: 4 })
  .chain((d) => {
    const maxSide = [0, 2_000_000, 1400, 120, 36][d]!;
    const minSide = [0, 10_000, 100, 20, 10][d]!;
    return fc.record({
      shape: fc.array(fc.integer({ min: minSide, max: maxSide }), { minLength: d, maxLength: d }),
      boundary: fc.constantFrom('open' as const, 'periodic' as const),
      obstacles: fc.record({ density: fc.double({ min: 0, max: 0.55, noNaN: true }), seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
    });
  }) as fc.Arbitrary<LatticeSpec>;

async function measured(type: KernelType, spec: LatticeSpec, params: Record<string, unknown>, keepField = false) {
  // Diffusion as a worker runs it for a job that asked for its `field` artefact: keeping its whole field.
  const { result, stats } = await pool.runDetailed(type, spec, params, keepField ? { onField: () => undefined } : {});
  return { memory: (result as { memory_bytes: number }).memory_bytes, shared: stats.shared_bytes };
}

describe('memory reservation', () => {
  it('covers what distance_field, min_cost_path, percolation, shortest_path with pairs and the full connectivity allocate', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, fc.constantFrom('axis' as const, 'full' as const), fc.nat(), async (spec, connectivity, pick) => {
        const shape = spec.shape as number[];
        const axis = pick % shape.length;
        const jobs: Array<[KernelType, Record<string, unknown>]> = [
          ['distance_field', { face: { axis, side: 'low' }, connectivity }],
          ['distance_field', { sources: [shape.map((side) => side >> 1)], connectivity }],
          ['distance_field', { face: { axis, side: 'high' }, connectivity, costs: { max: 1 + (pick % 255), seed: pick } }],
          ['min_cost_path', { start: shape.map(() => 0), end: shape.map((side) => side - 1), costs: { max: 1 + (pick % 255), seed: pick }, connectivity }],
          ['percolation', { seed: pick, points: 11 }],
          ['shortest_path', { pairs: [{ start: shape.map(() => 0), end: shape.map((side) => side - 1) }, { start: shape.map((side) => side >> 1), end: shape.map(() => 0) }], connectivity }],
        ];
        if (connectivity === 'full') {
          // `full` components and one pair's path run in one thread too (flood fill, one search).
          jobs.push(['components', { connectivity }], ['shortest_path', { start: shape.map(() => 0), end: shape.map((side) => side - 1), connectivity }]);
        }
        for (const [type, params] of jobs) {
          const reserved = jobReservation(type, spec, params, THREADS);
          const { memory } = await measured(type, spec, params);
          expect(memory, `${type} ${JSON.stringify(params)} on ${JSON.stringify(spec)}`).toBeLessThanOrEqual(reserved);
        }
      }),
      { numRuns: 5 },
    );
  }, 120_000);

  it("covers Dial's search in WebAssembly on costly lattices of a few million cells, in 2 to 4 axes", async () => {
    const cases: Array<[LatticeSpec, number]> = [
      [{ shape: [1400, 1400], boundary: 'open', obstacles: { density: 0.3, seed: 3 } }, 255],
      [{ shape: [120, 120, 120], boundary: 'open', obstacles: { density: 0.2, seed: 4 } }, 255],
      [{ shape: [1200, 1000], boundary: 'open', obstacles: { density: 0.05, seed: 5 } }, 3],
      [{ shape: [30, 30, 30, 30], boundary: 'open', obstacles: { density: 0.1, seed: 6 } }, 40],
    ];
    for (const [spec, max] of cases) {
      const shape = spec.shape as number[];
      const params = { start: shape.map(() => 0), end: shape.map((side) => side - 1), costs: { max, seed: max }, connectivity: 'full' };
      const reserved = jobReservation('min_cost_path', spec, params, THREADS);
      const { memory } = await measured('min_cost_path', spec, params);
      expect(memory, JSON.stringify(spec)).toBeLessThanOrEqual(reserved);
    }
  }, 120_000);

  it('covers what shortest_path, components and diffusion allocate', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(specArb, async (spec) => {
        const shape = spec.shape as number[];
        const jobs: Array<[KernelType, Record<string, unknown>]> = [
          ['shortest_path', { start: shape.map(() => 0), end: shape.map((side) => side - 1) }],
          ['components', {}],
          ['diffusion', { steps: 2, alpha: 0.1, sources: [{ cell: shape.map(() => 0), value: 1 }] }],
        ];
        for (const [type, params] of jobs) {
          // A diffusion with and without its `field` artefact: the kept field is reserved only when asked for.
          for (const artefacts of type === 'diffusion' ? [['field'], null] : [null]) {
            const reserved = jobReservation(type, spec, params, THREADS, artefacts);
            const { memory, shared } = await measured(type, spec, params, artefacts !== null);
            runs++;
            expect(memory, `${type} ${JSON.stringify(artefacts)} on ${JSON.stringify(spec)}`).toBeLessThanOrEqual(reserved);
            expect(shared).toBeLessThanOrEqual(reserved);
            // The dense kernel's reservation is its fields and bits, not a guess many times over.
            if (type === 'diffusion') expect(reserved).toBeLessThanOrEqual(1.1 * memory + 512 * 1024);
          }
        }
        const cells = shape.reduce((product, side) => product * side, 1);
        const diffusion = jobs[2]![1];
        expect(jobReservation('diffusion', spec, diffusion, THREADS, ['field']) - jobReservation('diffusion', spec, diffusion, THREADS)).toBe(4 * cells);
      }),
      { numRuns: 20 },
    );
    expect(runs).toBe(80);
  }, 120_000);

  it('covers the two-thread search with its state in bricks, 3-D lattices from 2^22 cells', async () => {
    // 4 bits of each padded cell in one shared memory (two-sided-bricks.ts), beside the one-thread search's 3.
    for (const shape of [[162, 162, 162], [100, 200, 250], [216, 216, 216]]) {
      const spec = { shape, boundary: 'open', obstacles: { density: 0.3, seed: 5 } } as LatticeSpec;
      const params = { start: [0, 0, 0], end: shape.map((side) => side - 1) };
      const { result, stats } = await pool.runDetailed('shortest_path', spec, params, { threads: 2, strategy: 'bfs' });
      expect(stats.layout, JSON.stringify(shape)).toBe('bricks');
      const reserved = jobReservation('shortest_path', spec, params, THREADS);
      expect((result as { memory_bytes: number }).memory_bytes, JSON.stringify(shape)).toBeLessThanOrEqual(reserved);
      expect(stats.shared_bytes, JSON.stringify(shape)).toBeLessThanOrEqual(reserved);
    }
  }, 120_000);

  it('counts an explicit obstacle list and a longest possible path', () => {
    const plain: LatticeSpec = { shape: [100, 100], boundary: 'open' } as LatticeSpec;
    const listed = { ...plain, obstacles: { blocked: Array.from({ length: 5000 }, (_, i) => [i % 100, Math.floor(i / 100)]) } } as LatticeSpec;
    const params = { start: [0, 0], end: [99, 99] };
    expect(jobReservation('shortest_path', listed, params, 1) - jobReservation('shortest_path', plain, params, 1)).toBeGreaterThanOrEqual(5000 * 8);
    // A path on a maze may visit every cell: the reservation grows with the cells, to the result's cap.
    const long = jobReservation('shortest_path', { shape: [4000, 4000], boundary: 'open' } as LatticeSpec, params, 1);
    expect(long).toBeGreaterThan(1_000_000 * 8);
  });

  it('covers what a job with a path of up to 10^6 cells really uses, from the search to the query that writes its result (peak RSS)', () => {
    // bench/lattice/path-result-memory.ts's child: a fresh process runs the job as a worker does
    // (paths as cells), makes the `path` artefact's rows and the result's JSON, and sends that to
    // PostgreSQL; it reports its reservation and the growth of its peak RSS over the whole job.
    const cases = [
      { name: '2-D serpentine', type: 'shortest_path', shape: [1997, 1000], obstacles: 'serpentine', params: { start: [0, 0], end: [1996, 999] } },
      { name: '3-D serpentine', type: 'shortest_path', shape: [65, 129, 257], obstacles: 'serpentine', params: { start: [0, 0, 0], end: [64, 128, 256] } },
      { name: 'pairs', type: 'shortest_path', shape: [1997, 1000], obstacles: 'serpentine', params: { pairs: [{ start: [0, 0], end: [998, 999] }, { start: [998, 999], end: [1996, 999] }] } },
      { name: 'min_cost_path', type: 'min_cost_path', shape: [1997, 1000], obstacles: 'serpentine', params: { start: [0, 0], end: [1996, 999], costs: { max: 9, seed: 3 } } },
    ];
    for (const job of cases) {
      // With the source thread entry, as a worker started through tsx has (not the test run's).
      const env = { ...process.env, KERNEL_THREAD_FILE: '' };
      const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/lattice/path-result-memory.ts', '--child', process.cwd(), JSON.stringify(job)], { encoding: 'utf8', env });
      expect(child.status, child.stderr).toBe(0);
      const measured = JSON.parse(child.stdout.trim().split('\n').pop()!) as { path_cells: number; reserved_bytes: number; result_held_bytes: number; peak_rss_growth_bytes: number };
      expect(measured.path_cells, job.name).toBeGreaterThan(5e5);
      expect(measured.peak_rss_growth_bytes, job.name).toBeLessThanOrEqual(measured.reserved_bytes);
      // The finished result holds its paths as cells, 4 bytes each (and the rest of it).
      expect(measured.result_held_bytes, job.name).toBeLessThan(4 * measured.path_cells + 512 * 1024);
    }
  }, 300_000);

  it("counts an uploaded map's bits, and the label buffers of a components job", () => {
    const plain = { shape: [8000, 8000], boundary: 'open' } as LatticeSpec;
    const mapped = { ...plain, obstacles: { map: '00000000-0000-0000-0000-000000000000' } } as LatticeSpec;
    for (const type of ['shortest_path', 'components', 'diffusion'] as const) {
      const params = type === 'shortest_path' ? { start: [0, 0], end: [7999, 7999] } : type === 'diffusion' ? { steps: 1, alpha: 0.1 } : {};
      expect(jobReservation(type, mapped, params, 2) - jobReservation(type, plain, params, 2)).toBe(8000 * 8000 / 8);
    }
    // Two threads' slabs and the one being written: three pairs of uint32 buffers of 2^20 cells (24 MiB), and more.
    expect(jobReservation('components', plain, {}, 2) - componentLabelBytes(plain.shape as number[], 2)).toBeGreaterThan(0);
    expect(componentLabelBytes([8000, 8000], 2)).toBeGreaterThanOrEqual(3 * 8 * 2 ** 20);
    // Slabs and faces, not a label per cell: 10^8 cells reserve under 150 MiB, not the 400 MB of their labels.
    expect(jobReservation('components', { shape: [10_000, 10_000], boundary: 'open' } as LatticeSpec, {}, 2)).toBeLessThan(150 * 2 ** 20);
  });
});
