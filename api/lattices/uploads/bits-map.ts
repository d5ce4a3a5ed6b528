/**
 * Packed bits as stored (packed-bits.ts): ceil(cells / 8) bytes for the shape given with the
 * upload, the unused high bits of the last byte 0. Passed on as they arrive.
 */
import type { ByteReader } from './byte-reader.ts';
import { invalid, truncated } from './byte-reader.ts';
import type { DecodedMap } from './decoded-map.ts';

export function openBitsMap(reader: ByteReader, shape: number[]): DecodedMap {
  const cells = shape.reduce((a, b) => a * b, 1);
  return { shape, bits: packedBits(reader, cells) };
}

async function* packedBits(reader: ByteReader, cells: number): AsyncIterable<Uint8Array> {
  const bytes = Math.ceil(cells / 8);
  let left = bytes;
  while (left > 0) {
    const piece = await reader.readSome(Math.min(left, 1 << 20));
    if (!piece) throw truncated(`the packed bits (${bytes - left} of ${bytes} bytes arrived)`);
    left -= piece.length;
    if (left === 0 && cells % 8 !== 0 && piece[piece.length - 1]! >>> cells % 8 !== 0) {
      throw invalid(`The last byte sets bits past the ${cells} cells of the shape`);
    }
    yield piece;
  }
  if (!(await reader.atEnd())) throw invalid(`The body is longer than the ${bytes} bytes of packed bits its shape needs`);
}
