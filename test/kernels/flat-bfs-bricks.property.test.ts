/**
 * The one-thread search in the brick layout of 3-D lattices (brick-layout.ts, searched so from
 * 2^22 cells; the threshold lowered to 0 here) against the reference BFS: random shapes across
 * several bricks, every obstacle kind (procedural, explicit, a packed map, none), ends anywhere,
 * same length and a valid path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jobReservation } from '../../shared/jobs/job-memory.ts';
import { resolveJob } from '../../shared/lattice/job.ts';
import type { Lattice, LatticeSpec } from '../../shared/lattice/types.ts';
import { BrickLayout } from '../../worker/kernels/brick-layout.ts';
import { flatBfs, flatBfsPlan } from '../../worker/kernels/flat-bfs.ts';
import { JobControl } from '../../worker/kernels/job-control.ts';
import { CellPath } from '../../shared/lattice/cell-path.ts';
import { pathResult } from '../../worker/kernels/path-result.ts';
import { refPathProblem, refShortestPathLength } from '../lattice/reference.ts';
import { asMap, brickCaseArb } from './brick-lattice-arbitraries.ts';

function search(lattice: Lattice, start: number, end: number, tuning: { brickMinCells: number; brickMaxPadding?: number }) {
  const control = JobControl.create(1);
  return flatBfs({ kind: 'flat_bfs', control: control.buffers, lattice, start, end, state: null }, control, tuning);
}

const caseArb = brickCaseArb([26, 26, 40], 0.5);

describe('one-thread search in the brick layout', () => {
  it('matches the reference on random 3-D lattices of every obstacle kind', () => {
    fc.assert(
      fc.property(caseArb, ({ shape, obstacles, start, end, map }) => {
        const spec = obstacles === undefined ? { shape } : { shape, obstacles };
        const resolved = resolveJob('shortest_path', spec, { start, end });
        if (resolved.params.start === resolved.params.end) return;
        const lattice = map ? asMap(resolved.lattice) : resolved.lattice;
        const { start: from, end: to } = resolved.params;
        const expected = refShortestPathLength(lattice, from, to);
        const { outcome, layout } = search(lattice, from, to, { brickMinCells: 0, brickMaxPadding: Infinity });
        expect(layout).toBe('bricks');
        const where = JSON.stringify({ spec, start, end, map });
        expect(outcome.length, where).toBe(expected);
        if (expected !== null) {
          expect(refPathProblem(lattice, new CellPath(pathResult(outcome.path, outcome.visited).path, lattice.shape).coordinates(), from, to), where).toBeNull();
        }
      }),
      { numRuns: 600 },
    );
  }, 180_000);

  it('maps every lattice cell to its own brick cell and back', () => {
    const layout = BrickLayout.of({ dimensions: 3, shape: [9, 17, 30], periodic: [false, false, false] }, Infinity)!;
    const scratch = new Int32Array(3);
    const seen = new Set<number>();
    for (let cell = 0; cell < 9 * 17 * 30; cell++) {
      const index = layout.fromRowMajor(cell);
      expect(index).toBeLessThan(layout.cells);
      seen.add(index);
      expect(layout.toRowMajor(index, scratch)).toBe(cell);
    }
    expect(seen.size).toBe(9 * 17 * 30);
    // Padding 16·24·32 / (9·17·30) = 2.7x: not taken by default.
    expect(BrickLayout.of({ dimensions: 3, shape: [9, 17, 30], periodic: [false, false, false] })).toBeNull();
  });

  it('is what the pool plans for 3-D lattices from 2^22 cells, and not for periodic ones', () => {
    const plan = (spec: object) => flatBfsPlan(resolveJob('shortest_path', spec, { start: [0, 0, 0], end: [1, 1, 1] }).lattice);
    const open = plan({ shape: [256, 256, 256] });
    const periodic = plan({ shape: [256, 256, 256], boundary: 'periodic' });
    // Bricks pad each side to 8·ceil(258/8) = 264 cells: the plan is that much larger.
    expect(open.wasm! / periodic.wasm!).toBeGreaterThan(1.08);
    expect(open.wasm! / periodic.wasm!).toBeLessThan(1.12);
    // A side of 2 would pad to 8: such a lattice keeps rows (3 bits per cell and small change).
    const thin = plan({ shape: [2, 4096, 4096] });
    expect((thin.wasm! * 8) / 2 ** 25).toBeLessThan(3.2);
  });

  // From 2^22 cells by default: a corner-to-corner search on 256³ in bricks and in rows (whose
  // frontiers are sorted at that size).
  it('answers as the row-major search on 256^3', () => {
    const { lattice, params } = resolveJob('shortest_path', { shape: [256, 256, 256], obstacles: { density: 0.3, seed: 11 } }, { start: [0, 0, 0], end: [255, 255, 255] });
    const bricks = search(lattice, params.start, params.end, { brickMinCells: 2 ** 24 });
    const rows = search(lattice, params.start, params.end, { brickMinCells: Infinity });
    expect([bricks.layout, rows.layout]).toEqual(['bricks', 'rows']);
    expect(bricks.outcome.length).not.toBeNull();
    expect(bricks.outcome.length).toBe(rows.outcome.length);
    expect(bricks.outcome.visited).toBeGreaterThan(0);
    expect(refPathProblem(lattice, new CellPath(pathResult(bricks.outcome.path, bricks.outcome.visited).path, lattice.shape).coordinates(), params.start, params.end)).toBeNull();
  }, 120_000);
});

describe("the brick search's memory reservation", () => {
  // A job reserves its memory from its spec before it runs; in bricks the state covers the padding too.
  it('covers the padded state of 3-D lattices from 2^22 cells', () => {
    for (const shape of [[256, 256, 256], [1024, 1024, 1024], [257, 300, 401], [20, 1200, 1200]]) {
      const spec = { shape, boundary: 'open' } as LatticeSpec;
      const { lattice } = resolveJob('shortest_path', spec, { start: [0, 0, 0], end: shape.map((side) => side - 1) });
      const plan = flatBfsPlan(lattice);
      const bricks = BrickLayout.of(lattice);
      expect(bricks, JSON.stringify(shape)).not.toBeNull();
      // 3 bits of each padded cell, in whole pages.
      expect(plan.wasm!, JSON.stringify(shape)).toBeGreaterThanOrEqual((3 * bricks!.cells) / 8);
      expect(jobReservation('shortest_path', spec, { start: [0, 0, 0], end: shape.map((side) => side - 1) }, 1), JSON.stringify(shape)).toBeGreaterThan(plan.wasm!);
    }
  });
});
