/**
 * Obstacles of a lattice in the brick layout (brick-layout.ts): a slab of bricks (8 planes of
 * axis 0) at a time, the first time the search reaches it. Each plane's lines come from
 * `fillOpenLines` (the procedural hash in SIMD, explicit, map, a job's own cells open) and are
 * moved one byte at a time: in a brick the 8 cells of one line segment are one byte of a plane.
 * Padding cells are blocked.
 */
import type { Lattice } from '../../shared/lattice/types.ts';
import type { BrickLayout } from './brick-layout.ts';
import { fillOpenLines, lineWords } from './open-mask.ts';

export class BrickObstacles {
  /** Per slab, 1 once materialised. */
  readonly ready: Uint8Array;
  /** Bytes of the marks plane (1 = blocked). */
  private readonly bytes: Uint8Array;
  /** One plane's open bits, line by line. */
  private readonly lines: Int32Array;
  private readonly perLine: number;

  /**
   * @param marks - the marks plane in brick order, zeroed
   * @param open - row-major indices that stay open (a path's ends)
   */
  constructor(
    marks: Int32Array,
    private readonly lattice: Lattice,
    private readonly layout: BrickLayout,
    private readonly open: readonly number[],
  ) {
    this.bytes = new Uint8Array(marks.buffer, marks.byteOffset, marks.byteLength);
    this.ready = new Uint8Array(layout.b0);
    this.perLine = lineWords(layout.n2);
    this.lines = new Int32Array(this.perLine * layout.n1 + 1);
  }

  /** Private bytes: the plane's line buffer and the slab flags. */
  get byteLength(): number {
    return this.lines.byteLength + this.ready.byteLength;
  }

  /** Materialises every slab. */
  materialiseAll(): void {
    for (let slab = 0; slab < this.ready.length; slab++) if (this.ready[slab] === 0) this.materialise(slab);
  }

  /**
   * Writes slab `slab`'s marks bytes (blocked cells and padding). Every byte of the slab is
   * stored, not OR-ed: no cell of a slab is marked before its slab is materialised. `into` and
   * `position`: another plane to write to, holding the slab at slab position `position` (the two-thread
   * search's one-slab scratch, two-sided-bricks.ts).
   */
  materialise(slab: number, into: Uint8Array = this.bytes, position = slab): void {
    const { layout, lines, perLine } = this;
    const bytes = into;
    const { n0, n1, n2, b1, b2 } = layout;
    const brickBytes = 64;
    const rowWords = Math.ceil(b2 / 4);
    for (let l0 = 0; l0 < 8; l0++) {
      const x0 = 8 * slab + l0 - 1;
      const inPlane = x0 >= 0 && x0 < n0;
      if (inPlane) fillOpenLines(lines, x0 * n1 * n2, n2, n1, this.lattice.obstacles, this.open);
      for (let p1 = 0; p1 < 8 * b1; p1++) {
        const x1 = p1 - 1;
        // Byte of (l0, l1) in the first brick of this brick row.
        const base = ((position * b1 + (p1 >>> 3)) * b2) * brickBytes + l0 * 8 + (p1 & 7);
        if (!inPlane || x1 < 0 || x1 >= n1) {
          for (let k2 = 0; k2 < b2; k2++) bytes[base + k2 * brickBytes] = 0xff;
          continue;
        }
        // Padded cell p2 = x2 + 1: the line's open bits shifted up by one, carried across words.
        const at = x1 * perLine;
        let carry = 0;
        for (let w = 0; w < rowWords; w++) {
          const word = w < perLine ? lines[at + w]! : 0;
          const shifted = ~((word << 1) | carry);
          carry = word >>> 31;
          const k = 4 * w;
          bytes[base + k * brickBytes] = shifted;
          if (k + 1 < b2) bytes[base + (k + 1) * brickBytes] = shifted >>> 8;
          if (k + 2 < b2) bytes[base + (k + 2) * brickBytes] = shifted >>> 16;
          if (k + 3 < b2) bytes[base + (k + 3) * brickBytes] = shifted >>> 24;
        }
      }
    }
    this.ready[slab] = 1;
  }
}
