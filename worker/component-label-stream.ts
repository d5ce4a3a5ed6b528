/**
 * The components artefact streamed in slabs (docs/architecture.md › Blobs): the label of every
 * cell (uint32, 0 = blocked, clusters numbered by first cell as `scipy.ndimage.label` does) and
 * the size of each, without ever holding a label per cell of the lattice.
 *
 * Pass 1 labels each slab of rows on its own in a kernel thread (slab-labels.ts) and keeps only
 * its first and last rows and the clusters touching them; those are joined across slab faces
 * (and the periodic seam of axis 0) by a union-find over face clusters, which sums their sizes.
 * Pass 2 labels each slab again, maps its local labels to final ones (a face cluster takes the
 * number of its joined cluster, given the first time it is met) and yields the slab's bytes in
 * order; sizes are known when a number is given and go to a temporary file, read back as the
 * second artefact. Memory: see `componentLabelBytes` (shared/lattice/label-slabs.ts).
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABEL_SLAB_CELLS, labelSlabRows } from '../shared/lattice/label-slabs.ts';
import type { Lattice } from '../shared/lattice/types.ts';
import { KernelError } from './kernels/kernel-errors.ts';

/** One slab for a labeller: rows `[rowFrom, rowTo)` into shared uint32 buffers of labels and sizes. */
export interface LabelSlabRequest {
  lattice: Lattice;
  rowFrom: number;
  rowTo: number;
  labels: SharedArrayBuffer;
  sizes: SharedArrayBuffer;
}

/** Labels a slab (a kernel thread, or the caller's own thread) and resolves with its local label count. */
export type SlabLabeller = (slab: LabelSlabRequest, signal?: AbortSignal) => Promise<number>;

/** Bytes handed to the blob store per piece. */
const PIECE_BYTES = 2 ** 20;
/** Sizes buffered before a write to the temporary file. */
const SIZES_BUFFERED = 2 ** 18;

interface Slot {
  labels: SharedArrayBuffer;
  sizes: SharedArrayBuffer;
}

/** What pass 1 keeps of a slab. */
interface SlabFaces {
  first: Uint32Array;
  last: Uint32Array;
  /** Local labels on either face, ascending; the global id of `faceLabels[k]` is `offset + k`. */
  faceLabels: Uint32Array;
  faceSizes: Uint32Array;
  offset: number;
}

function find(parent: Uint32Array, node: number): number {
  let root = node;
  while (parent[root] !== root) root = parent[root]!;
  while (parent[node] !== root) {
    const next = parent[node]!;
    parent[node] = root;
    node = next;
  }
  return root;
}

export class ComponentLabelStream {
  private readonly rowCells: number;
  private readonly rowsPerSlab: number;
  private readonly slabCount: number;
  private readonly slots: Slot[];
  private readonly sizesPath = join(tmpdir(), `catalytic-sizes-${randomUUID()}.u32`);
  private faces: SlabFaces[] = [];
  private parent = new Uint32Array(0);
  private rootSizes = new Float64Array(0);
  /** Clusters numbered so far (after pass 2: all of them). */
  count = 0;

  /**
   * @param concurrency - slabs labelled at once (the pool's threads); one more buffer pair is kept
   *   for the slab being written out
   * @param slabCells - cells per slab, rounded down to whole rows (at least one)
   */
  constructor(
    private readonly lattice: Lattice,
    private readonly labeller: SlabLabeller,
    private readonly concurrency: number,
    private readonly signal?: AbortSignal,
    slabCells = LABEL_SLAB_CELLS,
  ) {
    this.rowCells = lattice.strides[0]!;
    this.rowsPerSlab = labelSlabRows(lattice.shape, slabCells);
    this.slabCount = Math.ceil(lattice.shape[0]! / this.rowsPerSlab);
    const cells = this.rowsPerSlab * this.rowCells;
    const slots = Math.min(this.slabCount, concurrency + 1);
    this.slots = Array.from({ length: slots }, () => ({ labels: new SharedArrayBuffer(4 * cells), sizes: new SharedArrayBuffer(4 * cells) }));
  }

  /**
   * Bytes this stream's own arrays take now: the slab buffers, the faces kept and their tables
   * (the largest label map of pass 2 is one uint32 per slab cell more).
   */
  get memoryBytes(): number {
    let bytes = this.slots.reduce((sum, slot) => sum + slot.labels.byteLength + slot.sizes.byteLength, 0);
    for (const slab of this.faces) {
      bytes += slab.first.byteLength + (slab.last === slab.first ? 0 : slab.last.byteLength) + slab.faceLabels.byteLength + slab.faceSizes.byteLength;
    }
    return bytes + this.parent.byteLength * 2 + this.rootSizes.byteLength;
  }

  private request(slab: number, slot: Slot): LabelSlabRequest {
    const rowFrom = slab * this.rowsPerSlab;
    return { lattice: this.lattice, rowFrom, rowTo: Math.min(this.lattice.shape[0]!, rowFrom + this.rowsPerSlab), labels: slot.labels, sizes: slot.sizes };
  }

  /** Throws what a kernel thread throws when stopped. */
  private stopIfAborted(): void {
    if (this.signal?.aborted) throw new KernelError('cancelled');
  }

  /** Pass 1: every slab's faces, then the clusters joined across them. */
  async prepare(): Promise<void> {
    const faces: SlabFaces[] = new Array<SlabFaces>(this.slabCount);
    const free = [...this.slots];
    let next = 0;
    const worker = async (): Promise<void> => {
      const slot = free.pop()!;
      try {
        while (next < this.slabCount) {
          // A labeller on the caller's thread does not watch the signal: a stop ends the pass between slabs.
          this.stopIfAborted();
          const slab = next++;
          const request = this.request(slab, slot);
          await this.labeller(request, this.signal);
          faces[slab] = this.facesOf(request, slot);
        }
      } finally {
        free.push(slot);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, this.slots.length) }, worker));

    let total = 0;
    for (const slab of faces) {
      slab.offset = total;
      total += slab.faceLabels.length;
    }
    const parent = new Uint32Array(total);
    for (let id = 0; id < total; id++) parent[id] = id;
    const join = (a: SlabFaces, la: number, b: SlabFaces, lb: number): void => {
      const ra = find(parent, a.offset + indexOf(a.faceLabels, la));
      const rb = find(parent, b.offset + indexOf(b.faceLabels, lb));
      if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
    };
    const joinRows = (above: SlabFaces, below: SlabFaces): void => {
      for (let k = 0; k < this.rowCells; k++) {
        const a = above.last[k]!;
        const b = below.first[k]!;
        if (a !== 0 && b !== 0) join(above, a, below, b);
      }
    };
    for (let s = 1; s < faces.length; s++) joinRows(faces[s - 1]!, faces[s]!);
    // The periodic seam of axis 0: its last row meets its first.
    if (this.lattice.boundary === 'periodic' && this.lattice.shape[0]! > 1) joinRows(faces[faces.length - 1]!, faces[0]!);
    const rootSizes = new Float64Array(total);
    for (const slab of faces) {
      for (let k = 0; k < slab.faceLabels.length; k++) rootSizes[find(parent, slab.offset + k)]! += slab.faceSizes[k]!;
    }
    this.faces = faces;
    this.parent = parent;
    this.rootSizes = rootSizes;
  }

  private facesOf(request: LabelSlabRequest, slot: Slot): SlabFaces {
    const labels = new Uint32Array(slot.labels);
    const sizes = new Uint32Array(slot.sizes);
    const rows = request.rowTo - request.rowFrom;
    const first = labels.slice(0, this.rowCells);
    const last = rows === 1 ? first : labels.slice((rows - 1) * this.rowCells, rows * this.rowCells);
    const onFace = new Set<number>();
    for (const row of [first, last]) for (const label of row) if (label !== 0) onFace.add(label);
    const faceLabels = Uint32Array.from(onFace).sort();
    const faceSizes = faceLabels.map((label) => sizes[label - 1]!);
    return { first, last, faceLabels, faceSizes, offset: 0 };
  }

  /**
   * Pass 2: the label bytes, slab after slab (little-endian uint32, row-major); the sizes go to a
   * temporary file for {@link sizeBytes}. Call {@link prepare} first.
   */
  async *labelBytes(): AsyncIterable<Uint8Array> {
    const sizesFile = await open(this.sizesPath, 'w');
    try {
      const sizesOut = new SizesWriter(sizesFile);
      const finals = new Uint32Array(this.parent.length);
      const running = new Map<number, Promise<number>>();
      const slotOf = (slab: number): Slot => this.slots[slab % this.slots.length]!;
      const launch = (slab: number): void => {
        if (slab >= this.slabCount) return;
        const pending = this.labeller(this.request(slab, slotOf(slab)), this.signal);
        // Awaited in order below; a failure is handled there, not as an unhandled rejection.
        pending.catch(() => undefined);
        running.set(slab, pending);
      };
      // One buffer pair stays free for the slab being written out while the others are labelled.
      for (let slab = 0; slab < this.slots.length - 1 || slab === 0; slab++) launch(slab);
      try {
        for (let slab = 0; slab < this.slabCount; slab++) {
          this.stopIfAborted();
          if (!running.has(slab)) launch(slab);
          const count = await running.get(slab)!;
          running.delete(slab);
          if (this.slots.length > 1) launch(slab + this.slots.length - 1);
          const slot = slotOf(slab);
          const request = this.request(slab, slot);
          const cells = (request.rowTo - request.rowFrom) * this.rowCells;
          const map = await this.numberSlab(this.faces[slab]!, count, new Uint32Array(slot.sizes), finals, sizesOut);
          const labels = new Uint32Array(slot.labels, 0, cells);
          for (let i = 0; i < cells; i++) labels[i] = map[labels[i]!]!;
          // Copies: the blob store may keep what it is given past the next slab's labelling.
          const bytes = new Uint8Array(slot.labels, 0, 4 * cells);
          for (let at = 0; at < bytes.length; at += PIECE_BYTES) yield Buffer.from(bytes.subarray(at, Math.min(bytes.length, at + PIECE_BYTES)));
        }
      } finally {
        await Promise.allSettled(running.values());
      }
      await sizesOut.flush();
    } finally {
      await sizesFile.close();
    }
  }

  /** Final labels of a slab's local ones (index 0 stays 0); gives new numbers and writes their sizes. */
  private async numberSlab(faces: SlabFaces, count: number, localSizes: Uint32Array, finals: Uint32Array, sizesOut: SizesWriter): Promise<Uint32Array> {
    const map = new Uint32Array(count + 1);
    let face = 0;
    for (let label = 1; label <= count; label++) {
      if (face < faces.faceLabels.length && faces.faceLabels[face] === label) {
        const root = find(this.parent, faces.offset + face++);
        if (finals[root] === 0) {
          finals[root] = ++this.count;
          await sizesOut.push(this.rootSizes[root]!);
        }
        map[label] = finals[root]!;
      } else {
        map[label] = ++this.count;
        await sizesOut.push(localSizes[label - 1]!);
      }
    }
    return map;
  }

  /** The clusters' sizes (uint32 each, by label), after {@link labelBytes} has run to its end. */
  async *sizeBytes(): AsyncIterable<Uint8Array> {
    yield* createReadStream(this.sizesPath, { highWaterMark: PIECE_BYTES }) as AsyncIterable<Buffer>;
  }

  /** Removes the temporary file. */
  async close(): Promise<void> {
    await rm(this.sizesPath, { force: true });
  }
}

/** Sizes appended to a file through a buffer of {@link SIZES_BUFFERED} values. */
class SizesWriter {
  private readonly buffer = new Uint32Array(SIZES_BUFFERED);
  private filled = 0;
  constructor(private readonly file: FileHandle) {}

  async push(size: number): Promise<void> {
    this.buffer[this.filled++] = size;
    if (this.filled === this.buffer.length) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.filled === 0) return;
    await this.file.write(new Uint8Array(this.buffer.buffer, 0, 4 * this.filled));
    this.filled = 0;
  }
}

/** Index of `value` in the ascending `values` (present by construction). */
function indexOf(values: Uint32Array, value: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
