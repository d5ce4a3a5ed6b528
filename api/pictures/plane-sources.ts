/**
 * Where a picture's cells come from, one picture row at a time: a stored array artefact (labels,
 * field), read in one forward ranged pass over its blob; the lattice's obstacles (its rule, or
 * its uploaded map's bits, also read in one pass); and a path's cells on the plane, as one bit per
 * pixel of the plane (bounded, as the plane is, by the plan's picture size).
 */
import type { BlobStore } from '../../shared/blobs/index.ts';
import type { BlobRow } from '../../shared/blobs/index.ts';
import { isBlockedBy } from '../../shared/lattice/geometry.ts';
import type { ObstacleRule } from '../../shared/lattice/types.ts';
import { ForwardBytes } from './forward-bytes.ts';
import { type PicturePlane, planeIndex } from './picture-plane.ts';

/** Fills one picture row's worth of cells. */
export interface PlaneRows {
  /** Writes row `r`'s cells into `dst` (rows asked for in order, each once). */
  row(r: number, dst: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

type StoredBlob = Pick<BlobRow, 'tenant_id' | 'id' | 'size'>;

/** The blob bytes from the plane's first cell to its last, at `bytesPerCell` (bits when 1/8). */
function planeRange(plane: PicturePlane, bytesOf: (index: number) => number, size: number): { start: number; end: number } {
  const last = planeIndex(plane, plane.height - 1, plane.width - 1);
  return { start: bytesOf(plane.base), end: bytesOf(last) + size - 1 };
}

/** A C-ordered array of 4-byte cells (uint32 labels, float32 field): `dst` gets `4 · width` bytes a row. */
export function arrayRows(blobs: Pick<BlobStore, 'read'>, blob: StoredBlob, plane: PicturePlane): PlaneRows {
  const range = planeRange(plane, (i) => 4 * i, 4);
  const reader = new ForwardBytes(blobs.read(blob, range), range.start);
  return {
    async row(r, dst) {
      const first = planeIndex(plane, r, 0);
      if (plane.colStride === 1) return reader.copy(4 * first, 4 * plane.width, dst);
      return reader.gather((c) => 4 * (first + c * plane.colStride), plane.width, 4, dst);
    },
    close: () => reader.close(),
  };
}

/** The lattice's obstacles: `dst[c]` is 1 where the cell is blocked. A map's bits are read from its blob. */
export function obstacleRows(plane: PicturePlane, rule: ObstacleRule | { kind: 'stored_map'; blobs: BlobStore; blob: StoredBlob }): PlaneRows {
  if (rule.kind !== 'stored_map') {
    return {
      async row(r, dst) {
        const first = planeIndex(plane, r, 0);
        for (let c = 0; c < plane.width; c++) dst[c] = isBlockedBy(rule, first + c * plane.colStride) ? 1 : 0;
      },
      close: async () => undefined,
    };
  }
  const range = planeRange(plane, (i) => Math.floor(i / 8), 1);
  const reader = new ForwardBytes(rule.blobs.read(rule.blob, range), range.start);
  const bytes = new Uint8Array(plane.width);
  return {
    async row(r, dst) {
      const first = planeIndex(plane, r, 0);
      await reader.gather((c) => Math.floor((first + c * plane.colStride) / 8), plane.width, 1, bytes);
      for (let c = 0; c < plane.width; c++) dst[c] = (bytes[c]! >>> (first + c * plane.colStride) % 8) & 1;
    },
    close: () => reader.close(),
  };
}

/** A path's cells that lie on the plane, one bit per plane cell (row-major). */
export class PlanePath {
  readonly bits: Uint8Array;

  constructor(private readonly plane: PicturePlane) {
    this.bits = new Uint8Array(Math.ceil((plane.width * plane.height) / 8));
  }

  /** Marks a cell of the path when it lies on the plane. */
  add(cell: ArrayLike<number>): void {
    for (const [axis, index] of this.plane.fixed) if (cell[axis] !== index) return;
    const k = cell[this.plane.axes[0]]! * this.plane.width + cell[this.plane.axes[1]]!;
    this.bits[k >> 3]! |= 1 << (k & 7);
  }

  /** Reads a stored path artefact (uint32, `[cells, d]`), a chunk at a time. */
  async addStored(blobs: Pick<BlobStore, 'read'>, blob: StoredBlob, d: number): Promise<void> {
    const cell = new Uint32Array(d);
    const bytes = new Uint8Array(cell.buffer);
    let filled = 0;
    for await (const chunk of blobs.read(blob)) {
      for (let i = 0; i < chunk.length; i++) {
        bytes[filled++] = chunk[i]!;
        if (filled === bytes.length) {
          this.add(cell);
          filled = 0;
        }
      }
    }
  }

  has(row: number, col: number): boolean {
    const k = row * this.plane.width + col;
    return ((this.bits[k >> 3]! >>> (k & 7)) & 1) === 1;
  }
}
