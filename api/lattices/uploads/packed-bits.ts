/**
 * Packs cells into the stored form of an obstacle map: one bit per cell in row-major order, bit
 * `i & 7` of byte `i >> 3` (numpy's `packbits(…, bitorder='little')`), 1 = blocked. Output leaves
 * in pieces of {@link PACKED_PIECE_BYTES}, so a map of any size passes through a bounded buffer.
 */

export const PACKED_PIECE_BYTES = 64 * 1024;

export class PackedBitsWriter {
  private piece = new Uint8Array(PACKED_PIECE_BYTES);
  private bytes = 0;
  private bit = 0;
  private current = 0;
  /** Cells written so far. */
  cells = 0;

  /** Appends one cell per byte of `blocked` (nonzero = blocked); returns full pieces. */
  pushCells(blocked: Uint8Array, out: Uint8Array[] = []): Uint8Array[] {
    for (let i = 0; i < blocked.length; i++) this.pushBit(blocked[i] !== 0 ? 1 : 0, out);
    return out;
  }

  pushBit(blocked: 0 | 1, out: Uint8Array[]): void {
    this.current |= blocked << this.bit;
    this.cells++;
    if (++this.bit === 8) {
      this.piece[this.bytes++] = this.current;
      this.current = 0;
      this.bit = 0;
      if (this.bytes === PACKED_PIECE_BYTES) {
        out.push(this.piece);
        this.piece = new Uint8Array(PACKED_PIECE_BYTES);
        this.bytes = 0;
      }
    }
  }

  /** The last, partial piece (the last byte's unused high bits are 0). */
  finish(): Uint8Array {
    if (this.bit > 0) {
      this.piece[this.bytes++] = this.current;
      this.bit = 0;
    }
    return this.piece.subarray(0, this.bytes);
  }
}
