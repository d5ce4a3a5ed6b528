/**
 * A PNG decoder for tests, written from the specification (RFC 2083), apart from the encoder under
 * test: 8-bit RGB or RGBA, not interlaced, any row filter; checks every chunk's CRC. Answers RGB.
 */
import { crc32, inflateSync } from 'node:zlib';

export interface DecodedPng {
  width: number;
  height: number;
  /** RGB, row-major. */
  rgb: Uint8Array;
  text: Record<string, string>;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

export function decodePng(file: Buffer): DecodedPng {
  if (!file.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) throw new Error('not a PNG');
  let at = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  const text: Record<string, string> = {};
  let ended = false;
  while (at < file.length) {
    const length = file.readUInt32BE(at);
    const type = file.toString('latin1', at + 4, at + 8);
    const data = file.subarray(at + 8, at + 8 + length);
    if ((crc32(file.subarray(at + 4, at + 8 + length)) >>> 0) !== file.readUInt32BE(at + 8 + length)) throw new Error(`bad CRC in ${type}`);
    at += 12 + length;
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0 || (data[9] !== 2 && data[9] !== 6)) throw new Error(`unsupported IHDR ${[...data.subarray(8)]}`);
      channels = data[9] === 2 ? 3 : 4;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'tEXt') {
      const zero = data.indexOf(0);
      text[data.toString('latin1', 0, zero)] = data.toString('latin1', zero + 1);
    } else if (type === 'IEND') ended = true;
  }
  if (!ended) throw new Error('no IEND');
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1)) throw new Error(`image data is ${raw.length} bytes, not ${height * (stride + 1)}`);
  const rgb = new Uint8Array(width * height * 3);
  let previous = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = new Uint8Array(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? line[i - channels]! : 0;
      const b = previous[i]!;
      const c = i >= channels ? previous[i - channels]! : 0;
      line[i] = (line[i]! + [0, a, b, (a + b) >>> 1, paeth(a, b, c)][filter]!) & 0xff;
    }
    for (let x = 0; x < width; x++) rgb.set(line.subarray(x * channels, x * channels + 3), 3 * (y * width + x));
    previous = line;
  }
  return { width, height, rgb, text };
}

/** The RGB of pixel (x, y). */
export function pixelAt(png: DecodedPng, x: number, y: number): [number, number, number] {
  const at = 3 * (y * png.width + x);
  return [png.rgb[at]!, png.rgb[at + 1]!, png.rgb[at + 2]!];
}
