/**
 * A PNG encoder that streams: the image's rows go through zlib's deflate one at a time and come
 * out as IDAT chunks as deflate hands them over, so a rendering holds one row and deflate's
 * window, never the whole image. 8-bit RGB, no interlace, filter type 0 on every row.
 */
import { once } from 'node:events';
import { crc32, createDeflate } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngHeader {
  width: number;
  height: number;
  /** tEXt entries (Latin-1 keywords and values), e.g. the scale of a heat map. */
  text?: Record<string, string>;
}

/** One PNG chunk: length, type, data, CRC of type and data. */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc32(data, crc32(head.subarray(4))) >>> 0, 0);
  return Buffer.concat([head, data, tail]);
}

/**
 * The PNG file of `rows`: each is one image row of `3 · width` RGB bytes, in order from the top.
 * A row may be reused by its producer once the next is asked for (it is copied into deflate).
 * Throws if the rows are not exactly `height` rows of the right length.
 */
export async function* encodePng(header: PngHeader, rows: AsyncIterable<Uint8Array>): AsyncIterable<Buffer> {
  const { width, height } = header;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  yield Buffer.concat([SIGNATURE, pngChunk('IHDR', ihdr)]);
  for (const [key, value] of Object.entries(header.text ?? {})) yield pngChunk('tEXt', Buffer.from(`${key}\0${value}`, 'latin1'));

  const deflate = createDeflate({ level: 6 });
  const rowBytes = 3 * width;
  // The producer feeds deflate while this generator hands its output on; deflate's buffer is the
  // only slack between them (write() says when to wait).
  const feeding = (async () => {
    let count = 0;
    for await (const row of rows) {
      if (row.length !== rowBytes) throw new Error(`row ${count} has ${row.length} bytes, not ${rowBytes}`);
      const line = Buffer.allocUnsafe(1 + rowBytes);
      line[0] = 0;
      line.set(row, 1);
      count++;
      if (!deflate.write(line)) await once(deflate, 'drain');
    }
    if (count !== height) throw new Error(`${count} rows, not ${height}`);
    deflate.end();
  })();
  feeding.catch((err: unknown) => deflate.destroy(err instanceof Error ? err : new Error(String(err))));
  for await (const data of deflate as AsyncIterable<Buffer>) yield pngChunk('IDAT', data);
  await feeding;
  yield pngChunk('IEND', new Uint8Array(0));
}
