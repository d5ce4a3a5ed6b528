/**
 * A 2-D PNG obstacle map, decoded as it arrives: the header (IHDR) gives the shape before a byte of
 * image data is read, so an image declaring more pixels than the plan allows (a "PNG bomb") is
 * refused from its first 33 bytes; image data is inflated as a stream and unfiltered one row at a
 * time, and inflating past the rows the header declares is refused.
 *
 * Dark is blocked: a pixel is blocked when its luminance (0.299 R + 0.587 G + 0.114 B, on 0–255)
 * is below {@link DARK_THRESHOLD}, unless it is mostly transparent (alpha below 128), which counts
 * as open background. Greyscale, RGB, palette, with alpha or not, 1 to 16 bits; not interlaced.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflate } from 'node:zlib';
import type { ByteReader } from './byte-reader.ts';
import { invalid, truncated } from './byte-reader.ts';
import type { DecodedMap } from './decoded-map.ts';
import { PackedBitsWriter } from './packed-bits.ts';

/** Luminance below this (0–255) is blocked. */
export const DARK_THRESHOLD = 128;

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Largest chunk other than image data that is read (ancillary chunks are skipped). */
const MAX_OTHER_CHUNK = 1 << 20;
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The PNG chunk CRC (CRC-32 over type and data), updated piece by piece. */
function crc32(crc: number, bytes: Uint8Array): number {
  let c = crc;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

interface Header {
  width: number;
  height: number;
  depth: number;
  colour: number;
}

interface ChunkHead {
  length: number;
  type: string;
  crc: number;
}

async function chunkHead(reader: ByteReader): Promise<ChunkHead> {
  const head = await reader.read(8, 'a PNG chunk header');
  const length = head.readUInt32BE(0);
  if (length > 0x7fffffff) throw invalid('A PNG chunk declares a length over 2^31 - 1');
  return { length, type: head.subarray(4, 8).toString('latin1'), crc: crc32(0xffffffff, head.subarray(4, 8)) };
}

async function checkCrc(reader: ByteReader, chunk: ChunkHead, crc: number): Promise<void> {
  const stored = (await reader.read(4, `the CRC of the PNG ${chunk.type} chunk`)).readUInt32BE(0);
  if (((crc ^ 0xffffffff) >>> 0) !== stored) throw invalid(`The PNG ${chunk.type} chunk fails its CRC`);
}

async function wholeChunk(reader: ByteReader, chunk: ChunkHead): Promise<Buffer> {
  if (chunk.length > MAX_OTHER_CHUNK) throw invalid(`The PNG ${chunk.type} chunk is ${chunk.length} bytes; at most ${MAX_OTHER_CHUNK} are read`);
  const data = Buffer.from(await reader.read(chunk.length, `the PNG ${chunk.type} chunk`));
  await checkCrc(reader, chunk, crc32(chunk.crc, data));
  return data;
}

export async function openPngMap(reader: ByteReader): Promise<DecodedMap> {
  const signature = await reader.read(8, 'the PNG signature');
  if (!signature.equals(SIGNATURE)) throw invalid('Not a PNG: the signature is missing');
  const first = await chunkHead(reader);
  if (first.type !== 'IHDR' || first.length !== 13) throw invalid('The PNG must start with its IHDR chunk');
  const ihdr = await wholeChunk(reader, first);
  const header: Header = { width: ihdr.readUInt32BE(0), height: ihdr.readUInt32BE(4), depth: ihdr[8]!, colour: ihdr[9]! };
  if (header.width < 1 || header.height < 1) throw invalid('The PNG is 0 pixels wide or high');
  if (!(DEPTHS[header.colour] ?? []).includes(header.depth)) {
    throw invalid(`PNG colour type ${header.colour} with bit depth ${header.depth} is not a valid combination`);
  }
  if (ihdr[10] !== 0 || ihdr[11] !== 0) throw invalid('The PNG uses an unknown compression or filter method');
  if (ihdr[12] !== 0) throw invalid('Interlaced PNGs are not accepted: save it without interlacing');
  // Rows are axis 0, columns axis 1: pixel (x, y) is cell [y, x].
  return { shape: [header.height, header.width], bits: pngBits(reader, header) };
}

async function* pngBits(reader: ByteReader, header: Header): AsyncIterable<Uint8Array> {
  let palette: Uint8Array | undefined; // luminance per index, 0 when transparent-ish → open (255)
  let paletteAlpha: Buffer | undefined;
  let pending: ChunkHead | undefined;
  // Chunks before the image data: the palette and its transparency matter, the rest is skipped.
  for (;;) {
    const chunk = await chunkHead(reader);
    if (chunk.type === 'IDAT') {
      pending = chunk;
      break;
    }
    if (chunk.type === 'IEND') throw invalid('The PNG has no image data');
    const data = await wholeChunk(reader, chunk);
    if (chunk.type === 'PLTE') {
      palette = new Uint8Array(256).fill(255);
      for (let i = 0; i * 3 + 2 < data.length && i < 256; i++) palette[i] = luminance(data[i * 3]!, data[i * 3 + 1]!, data[i * 3 + 2]!);
    } else if (chunk.type === 'tRNS') paletteAlpha = data;
  }
  if (header.colour === 3) {
    if (!palette) throw invalid('A palette PNG has no PLTE chunk before its image data');
    if (paletteAlpha) for (let i = 0; i < paletteAlpha.length; i++) if (paletteAlpha[i]! < 128) palette[i] = 255;
  }

  const channels = CHANNELS[header.colour]!;
  const rowBytes = Math.ceil((header.width * channels * header.depth) / 8);
  const bpp = Math.max(1, (channels * header.depth) / 8);
  const expected = header.height * (rowBytes + 1);
  let ended = false;
  async function* imageData(): AsyncIterable<Buffer> {
    let chunk: ChunkHead | undefined = pending;
    while (chunk && chunk.type === 'IDAT') {
      let crc = chunk.crc;
      let left = chunk.length;
      while (left > 0) {
        const piece = await reader.readSome(Math.min(left, 1 << 16));
        if (!piece) throw truncated('the PNG image data');
        crc = crc32(crc, piece);
        left -= piece.length;
        yield Buffer.from(piece);
      }
      await checkCrc(reader, chunk, crc);
      chunk = await chunkHead(reader);
    }
    // After the image data: skip ancillary chunks up to IEND.
    while (chunk && chunk.type !== 'IEND') {
      await wholeChunk(reader, chunk);
      chunk = await chunkHead(reader);
    }
    await wholeChunk(reader, chunk!);
    ended = true;
    if (!(await reader.atEnd())) throw invalid('Bytes follow the PNG IEND chunk');
  }

  const inflate = createInflate();
  const feeding = pipeline(Readable.from(imageData()), inflate);
  const writer = new PackedBitsWriter();
  let previous = new Uint8Array(rowBytes);
  let row = new Uint8Array(rowBytes);
  let rowFill = -1; // -1: the filter byte comes next
  let filter = 0;
  let rows = 0;
  let inflated = 0;
  const out: Uint8Array[] = [];
  try {
    for await (const data of inflate as AsyncIterable<Buffer>) {
      inflated += data.length;
      if (inflated > expected) throw invalid(`The PNG image data inflates past the ${header.width} x ${header.height} pixels its header declares`);
      let at = 0;
      while (at < data.length) {
        if (rowFill < 0) {
          filter = data[at++]!;
          if (filter > 4) throw invalid(`PNG row ${rows} has an unknown filter type ${filter}`);
          rowFill = 0;
          continue;
        }
        const n = Math.min(rowBytes - rowFill, data.length - at);
        row.set(data.subarray(at, at + n), rowFill);
        rowFill += n;
        at += n;
        if (rowFill === rowBytes) {
          unfilter(filter, row, previous, bpp);
          pushRow(writer, row, header, palette, out);
          rows++;
          [previous, row] = [row, previous];
          rowFill = -1;
          yield* out.splice(0);
        }
      }
    }
    await feeding;
  } catch (err) {
    inflate.destroy();
    await feeding.catch(() => undefined);
    if ((err as { code?: string }).code === 'Z_DATA_ERROR' || (err as { code?: string }).code === 'Z_BUF_ERROR') {
      throw ended ? invalid('The PNG image data is not valid zlib data') : truncated('the PNG image data');
    }
    throw err;
  }
  if (rows < header.height) throw truncated(`the PNG image data (${rows} of ${header.height} rows)`);
  yield writer.finish();
}

function luminance(r: number, g: number, b: number): number {
  return Math.round(0.299 * r + 0.587 * g + 0.114 * b);
}

function unfilter(filter: number, row: Uint8Array, previous: Uint8Array, bpp: number): void {
  const n = row.length;
  switch (filter) {
    case 1:
      for (let i = bpp; i < n; i++) row[i] = (row[i]! + row[i - bpp]!) & 0xff;
      break;
    case 2:
      for (let i = 0; i < n; i++) row[i] = (row[i]! + previous[i]!) & 0xff;
      break;
    case 3:
      for (let i = 0; i < n; i++) row[i] = (row[i]! + (((i >= bpp ? row[i - bpp]! : 0) + previous[i]!) >>> 1)) & 0xff;
      break;
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? row[i - bpp]! : 0;
        const b = previous[i]!;
        const c = i >= bpp ? previous[i - bpp]! : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        row[i] = (row[i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
      }
      break;
  }
}

/** Thresholds one unfiltered row of pixels into the writer. */
function pushRow(writer: PackedBitsWriter, row: Uint8Array, header: Header, palette: Uint8Array | undefined, out: Uint8Array[]): void {
  const { width, depth, colour } = header;
  const step = depth === 16 ? 2 : 1; // 16-bit samples: the high byte decides
  for (let x = 0; x < width; x++) {
    let light: number;
    if (depth < 8) {
      const perByte = 8 / depth;
      const sample = (row[Math.floor(x / perByte)]! >>> (8 - depth * ((x % perByte) + 1))) & ((1 << depth) - 1);
      light = colour === 3 ? palette![sample]! : Math.round((sample * 255) / ((1 << depth) - 1));
    } else {
      const at = x * (CHANNELS[colour]! * step);
      const sample = (k: number): number => row[at + k * step]!;
      switch (colour) {
        case 0:
          light = sample(0);
          break;
        case 2:
          light = luminance(sample(0), sample(1), sample(2));
          break;
        case 3:
          light = palette![sample(0)]!;
          break;
        case 4:
          light = sample(1) < 128 ? 255 : sample(0);
          break;
        default:
          light = sample(3) < 128 ? 255 : luminance(sample(0), sample(1), sample(2));
      }
    }
    writer.pushBit(light < DARK_THRESHOLD ? 1 : 0, out);
  }
}
