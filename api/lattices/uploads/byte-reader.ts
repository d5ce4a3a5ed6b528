/**
 * Reads an upload's bytes as they arrive: exact-length reads for headers, then the rest in the
 * pieces the socket gives. Counts every byte against a limit (413 once past it) and turns an early
 * end into `upload_truncated`, so decoders never see a short read.
 */
import { AppError } from '../../../shared/errors.ts';

export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;
  /** Bytes taken from the source so far. */
  bytesRead = 0;

  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly maxBytes: number,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.iterator.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const piece = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.bytesRead += piece.length;
    if (this.maxBytes >= 0 && this.bytesRead > this.maxBytes) {
      throw new AppError('payload_too_large', `The upload exceeds the ${this.maxBytes} bytes this plan accepts for its largest lattice`);
    }
    this.pending = this.pending.length === 0 ? piece : Buffer.concat([this.pending, piece]);
    return true;
  }

  /** Exactly `n` bytes; `upload_truncated` when the body ends first. */
  async read(n: number, what: string): Promise<Buffer> {
    while (this.pending.length < n) {
      if (!(await this.pull())) throw truncated(what);
    }
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }

  /** Up to `max` bytes (at least one), or undefined at the end of the body. */
  async readSome(max: number): Promise<Buffer | undefined> {
    if (this.pending.length === 0 && !(await this.pull())) return undefined;
    const out = this.pending.subarray(0, Math.min(max, this.pending.length));
    this.pending = this.pending.subarray(out.length);
    return out;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return this.pending.length === 0 && !(await this.pull());
  }
}

/** An upload that ended before its format said it would. */
export function truncated(what: string): AppError {
  return new AppError('upload_truncated', `The upload ended early: ${what} is incomplete`);
}

/** An upload its format does not allow. */
export function invalid(message: string, extra: Record<string, unknown> = {}): AppError {
  return new AppError('upload_invalid', message, { extra });
}
