/**
 * The streamed component labels (worker/component-label-stream.ts) equal a reference labelling
 * (breadth-first, clusters numbered by first cell as scipy.ndimage.label) cell for cell, with the
 * sizes, on many random lattices of 1 to 4 axes, open and periodic, cut into slabs of one row and
 * more, labelled out of order by several "threads"; and through the real kernel pool's threads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentLabelBytes } from '../../shared/lattice/label-slabs.ts';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { ComponentLabelStream, type SlabLabeller } from '../../worker/component-label-stream.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { labelSlab } from '../../worker/kernels/slab-labels.ts';
import { refBlocked, refNeighbours } from '../lattice/reference.ts';

function referenceLabels(lattice: Lattice): { labels: Uint32Array; sizes: number[] } {
  const blocked = refBlocked(lattice);
  const labels = new Uint32Array(lattice.cells);
  const sizes: number[] = [];
  for (let first = 0; first < lattice.cells; first++) {
    if (blocked[first] || labels[first]) continue;
    const label = sizes.length + 1;
    let size = 0;
    const queue = [first];
    labels[first] = label;
    while (queue.length) {
      const cell = queue.pop()!;
      size++;
      for (const next of refNeighbours(lattice, cell)) {
        if (!blocked[next] && !labels[next]) {
          labels[next] = label;
          queue.push(next);
        }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes };
}

async function streamed(lattice: Lattice, labeller: SlabLabeller, concurrency: number, slabCells: number): Promise<{ labels: Uint32Array; sizes: Uint32Array }> {
  const stream = new ComponentLabelStream(lattice, labeller, concurrency, undefined, slabCells);
  try {
    await stream.prepare();
    // Within what the job reserved for its labels (the label map of pass 2 is one uint32 per slab cell).
    expect(stream.memoryBytes + 4 * (slabCells + 1)).toBeLessThanOrEqual(componentLabelBytes(lattice.shape, concurrency, slabCells));
    const parts: Buffer[] = [];
    for await (const part of stream.labelBytes()) parts.push(Buffer.from(part));
    const sizeParts: Buffer[] = [];
    for await (const part of stream.sizeBytes()) sizeParts.push(Buffer.from(part));
    const labels = Buffer.concat(parts);
    const sizes = Buffer.concat(sizeParts);
    expect(sizes.length).toBe(4 * stream.count);
    return {
      labels: new Uint32Array(labels.buffer, labels.byteOffset, labels.length / 4).slice(),
      sizes: new Uint32Array(sizes.buffer, sizes.byteOffset, sizes.length / 4).slice(),
    };
  } finally {
    await stream.close();
  }
}

/** Labels on this thread, finishing in a shuffled order as threads would. */
const shuffledLabeller: SlabLabeller = async (slab) => {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
  return labelSlab(slab.lattice, slab.rowFrom, slab.rowTo, new Uint32Array(slab.labels), new Uint32Array(slab.sizes));
};

function randomShape(): number[] {
  const d = 1 + Math.floor(Math.random() * 4);
  const maxSide = [0, 300, 24, 9, 5][d]!;
  return Array.from({ length: d }, () => 1 + Math.floor(Math.random() * maxSide));
}

describe('streamed component labels', () => {
  it('equal the reference labelling and sizes on random lattices, whatever the slabs', async () => {
    for (let trial = 0; trial < 60; trial++) {
      const shape = randomShape();
      const boundary = Math.random() < 0.5 ? 'periodic' : 'open';
      const density = [0, 0.2, 0.35, 0.45, 0.6, 1][trial % 6]!;
      const lattice = resolveLattice({ shape, boundary, obstacles: { density, seed: trial } });
      const rowCells = lattice.strides[0]!;
      const slabCells = rowCells * (1 + Math.floor(Math.random() * 4));
      const concurrency = 1 + Math.floor(Math.random() * 3);
      const expected = referenceLabels(lattice);
      const actual = await streamed(lattice, shuffledLabeller, concurrency, slabCells);
      const context = JSON.stringify({ shape, boundary, density, slabCells, concurrency });
      expect(actual.labels.length, context).toBe(lattice.cells);
      expect(Array.from(actual.sizes), context).toEqual(expected.sizes);
      expect(Buffer.from(actual.labels.buffer).equals(Buffer.from(expected.labels.buffer)), context).toBe(true);
    }
  });

  describe('in the kernel pool', () => {
    let pool: KernelPool;
    beforeAll(async () => {
      pool = new KernelPool({ threads: 2 });
      await pool.start();
    });
    afterAll(() => pool.close());

    it('labels slabs in its threads to the same answer', async () => {
      const lattice = resolveLattice({ shape: [97, 61], boundary: 'periodic', obstacles: { density: 0.4, seed: 7 } });
      const actual = await streamed(lattice, (slab, signal) => pool.labelSlab(slab, signal), pool.threads, 61 * 10);
      const expected = referenceLabels(lattice);
      expect(Array.from(actual.sizes)).toEqual(expected.sizes);
      expect(Buffer.from(actual.labels.buffer).equals(Buffer.from(expected.labels.buffer))).toBe(true);
    });

    it('stops a labelling when its signal aborts', async () => {
      const lattice = resolveLattice({ shape: [2000, 2000], boundary: 'open', obstacles: { density: 0.3, seed: 1 } });
      const abort = new AbortController();
      abort.abort();
      const stream = new ComponentLabelStream(lattice, (slab, signal) => pool.labelSlab(slab, signal), pool.threads, abort.signal);
      await expect(stream.prepare()).rejects.toMatchObject({ code: 'cancelled' });
      await stream.close();
    });
  });
});
