/**
 * Reads elements of a byte stream (a blob, a chunk at a time) at offsets that never go back, in
 * one pass: what a picture needs to pick one plane's cells out of a C-ordered array.
 */
export class ForwardBytes {
  private chunk: Buffer = Buffer.alloc(0);
  /** Stream offset of `chunk[0]`. */
  private chunkStart: number;
  private readonly source: AsyncIterator<Buffer>;

  /** @param start - the stream offset of the source's first byte (where a ranged read began) */
  constructor(source: AsyncIterable<Buffer>, start: number) {
    this.source = source[Symbol.asyncIterator]();
    this.chunkStart = start;
  }

  private async advance(): Promise<void> {
    const next = await this.source.next();
    if (next.done) throw new Error(`the array ended at byte ${this.chunkStart + this.chunk.length}`);
    this.chunkStart += this.chunk.length;
    this.chunk = next.value;
  }

  /**
   * Copies `size` bytes from each of `count` offsets (`offsetOf(k)`, non-decreasing) into `dst`,
   * element k at `k · size`.
   */
  async gather(offsetOf: (k: number) => number, count: number, size: number, dst: Uint8Array): Promise<void> {
    for (let k = 0; k < count; k++) {
      const offset = offsetOf(k);
      for (let i = 0; i < size; i++) {
        while (offset + i - this.chunkStart >= this.chunk.length) await this.advance();
        dst[k * size + i] = this.chunk[offset + i - this.chunkStart]!;
      }
    }
  }

  /** Copies `length` consecutive bytes from `offset` into `dst`. */
  async copy(offset: number, length: number, dst: Uint8Array): Promise<void> {
    let done = 0;
    while (done < length) {
      const at = offset + done - this.chunkStart;
      if (at >= this.chunk.length) {
        await this.advance();
        continue;
      }
      const n = Math.min(length - done, this.chunk.length - at);
      dst.set(this.chunk.subarray(at, at + n), done);
      done += n;
    }
  }

  /** Ends the underlying read early (a closed response, a failure). */
  async close(): Promise<void> {
    await this.source.return?.();
  }
}
