/**
 * Memory is the product (docs/architecture.md › The lattice model): a few bits per cell of working memory, and a lattice of
 * a billion cells costs a few bytes to describe and, for a path the lower bound admits, a few
 * kilobytes to search.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';

const pool = new KernelPool({ threads: 2 });
beforeAll(() => pool.start());
afterAll(() => pool.close());

const obstacles = { density: 0.2, seed: 7 };

describe('working memory', () => {
  it('keeps the bidirectional search within 4 bits per cell, 3 of them shared state', async () => {
    const side = 200;
    const cells = side ** 3;
    const { result, stats } = await pool.runDetailed(
      'shortest_path',
      { dimensions: 3, size: side, obstacles },
      { start: [0, 0, 0], end: [side - 1, side - 1, side - 1] },
      { strategy: 'bfs', threads: 1 },
    );
    expect(result.length).toBe(3 * (side - 1));
    expect(stats.shared_bytes).toBeLessThanOrEqual((cells * 3) / 8 + 1024);
    expect(result.memory_bytes).toBe(stats.shared_bytes + stats.thread_bytes);
    expect((result.memory_bytes * 8) / cells).toBeLessThanOrEqual(4);
  });

  it('labels components with about 2 bits per cell', async () => {
    // 1 bit per cell, plus per slab two rows of labels and sizes (208 bits per row cell) and the
    // WebAssembly face merge's copy of them (at most 17 bytes per face cell, in whole pages): the
    // rows' share falls as 1/side, about 1.5 bits per cell here.
    const side = 256;
    const result = await pool.run('components', { dimensions: 3, size: side, obstacles }, {}, { threads: 1 });
    expect((result.memory_bytes * 8) / side ** 3).toBeLessThanOrEqual(2.6);
  });

  it('finds a corner-to-corner path on 2^30 cells with kilobytes', async () => {
    const result = await pool.run('shortest_path', { dimensions: 3, size: 1024, obstacles }, { start: [0, 0, 0], end: [1023, 1023, 1023] });
    expect(result).toMatchObject({ reachable: true, length: 3069 });
    expect(result.path).toHaveLength(3070);
    expect(result.memory_bytes).toBeLessThan(64 * 1024);
  });
});
