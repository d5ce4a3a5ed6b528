/**
 * Obstacle-map files for tests, written here from their specifications (PNG: RFC 2083; .npy:
 * NumPy's format description), independent of the decoders under test.
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, tail]);
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function ihdr(width: number, height: number, depth: number, colour: number): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data[8] = depth;
  data[9] = colour;
  return chunk('IHDR', data);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * An 8-bit PNG of `rows` (each `width * channels` samples), colour type 0, 2, 4 or 6; row y uses
 * filter `filters[y % filters.length]`. IDAT is split into `idatPieces` chunks.
 */
export function encodePng(rows: Uint8Array[], width: number, colour: 0 | 2 | 4 | 6, filters: number[] = [0], idatPieces = 1): Buffer {
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colour];
  const stride = width * channels;
  const raw: number[] = [];
  let previous: Uint8Array = new Uint8Array(stride);
  rows.forEach((row, y) => {
    const filter = filters[y % filters.length]!;
    raw.push(filter);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? row[i - channels]! : 0;
      const b = previous[i]!;
      const c = i >= channels ? previous[i - channels]! : 0;
      const predictor = [0, a, b, (a + b) >>> 1, paeth(a, b, c)][filter]!;
      raw.push((row[i]! - predictor) & 0xff);
    }
    previous = row;
  });
  const compressed = deflateSync(Buffer.from(raw));
  const idat: Buffer[] = [];
  const size = Math.ceil(compressed.length / idatPieces);
  for (let at = 0; at < compressed.length; at += size) idat.push(chunk('IDAT', compressed.subarray(at, at + size)));
  return Buffer.concat([PNG_SIGNATURE, ihdr(width, rows.length, 8, colour), chunk('tEXt', Buffer.from('Comment\0test')), ...idat, chunk('IEND', Buffer.alloc(0))]);
}

/** A PNG whose header declares `width x height` pixels, with a few bytes of image data. */
export function pngBomb(width: number, height: number): Buffer {
  return Buffer.concat([PNG_SIGNATURE, ihdr(width, height, 8, 0), chunk('IDAT', deflateSync(Buffer.alloc(1000))), chunk('IEND', Buffer.alloc(0))]);
}

/** An `.npy` (version 1.0) of C-ordered `data`, header padded to 64 bytes as numpy writes it. */
export function encodeNpy(shape: number[], data: Uint8Array, descr = '|b1', fortran = false): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const length = Buffer.alloc(2);
  length.writeUInt16LE(header.length, 0);
  return Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]), length, Buffer.from(header, 'latin1'), data]);
}

/** One byte per cell (1 = blocked) as packed bits, bit i & 7 of byte i >> 3. */
export function packBits(blocked: Uint8Array): Buffer {
  const out = Buffer.alloc(Math.ceil(blocked.length / 8));
  blocked.forEach((b, i) => {
    if (b) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}
