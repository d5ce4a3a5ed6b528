/**
 * A NumPy `.npy` obstacle map (format versions 1.0, 2.0 and 3.0): a C-ordered array of `bool` or
 * `uint8`, any number of axes the lattice model allows; nonzero cells are blocked. The header is
 * read and checked before any data, and the data must be exactly as long as its shape says.
 */
import { MAX_DIMENSIONS, MIN_DIMENSIONS } from '../../../shared/lattice/limits.ts';
import type { ByteReader } from './byte-reader.ts';
import { invalid, truncated } from './byte-reader.ts';
import type { DecodedMap } from './decoded-map.ts';
import { PackedBitsWriter } from './packed-bits.ts';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
/** Longest header read; numpy writes a few dozen bytes padded to 64. */
const MAX_HEADER_BYTES = 64 * 1024;
/** dtypes accepted: one byte per cell. */
const BYTE_DTYPES = new Set(['|b1', 'b1', '|u1', 'u1', '<u1', '>u1', '=u1', '?', 'bool', 'uint8']);
const BOOL_DTYPES = new Set(['|b1', 'b1', '?', 'bool']);

/** The fields of an `.npy` header dictionary that matter here. */
export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/** Parses the Python dict literal of an `.npy` header, e.g. `{'descr': '|b1', 'fortran_order': False, 'shape': (3, 4), }`. */
export function parseNpyHeader(text: string): NpyHeader {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw invalid("The .npy header must give 'descr', 'fortran_order' and 'shape'", { header: text.slice(0, 200) });
  }
  const parts = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const shape = parts.map((part) => (/^\d+$/.test(part) ? Number(part) : NaN));
  if (shape.some((side) => !Number.isSafeInteger(side))) throw invalid(`The .npy shape (${shapeText}) is not a tuple of whole numbers`);
  return { descr, fortranOrder: fortran === 'True', shape };
}

export async function openNpyMap(reader: ByteReader): Promise<DecodedMap> {
  const magic = await reader.read(8, 'the .npy magic and version');
  if (!magic.subarray(0, 6).equals(MAGIC)) throw invalid('Not a .npy file: it must start with \\x93NUMPY');
  const major = magic[6]!;
  if (major < 1 || major > 3) throw invalid(`The .npy format version ${major}.${magic[7]} is not supported (1.0, 2.0, 3.0 are)`);
  const lengthBytes = await reader.read(major === 1 ? 2 : 4, 'the .npy header length');
  const headerLength = major === 1 ? lengthBytes.readUInt16LE(0) : lengthBytes.readUInt32LE(0);
  if (headerLength > MAX_HEADER_BYTES) throw invalid(`The .npy header is ${headerLength} bytes long; at most ${MAX_HEADER_BYTES} are read`);
  const header = parseNpyHeader((await reader.read(headerLength, 'the .npy header')).toString(major === 3 ? 'utf8' : 'latin1'));
  if (!BYTE_DTYPES.has(header.descr)) {
    throw invalid(`The .npy dtype '${header.descr}' is not accepted: send bool ('|b1') or uint8 ('|u1'), nonzero = blocked`, { dtype: header.descr });
  }
  if (header.fortranOrder) throw invalid('The .npy array is in Fortran order: save it C-ordered (np.ascontiguousarray)');
  if (header.shape.length < MIN_DIMENSIONS || header.shape.length > MAX_DIMENSIONS) {
    throw invalid(`The .npy array has ${header.shape.length} axes; a lattice has ${MIN_DIMENSIONS} to ${MAX_DIMENSIONS}`);
  }
  if (header.shape.some((side) => side < 1)) throw invalid('Every side of the .npy array must be at least 1');
  const bool = BOOL_DTYPES.has(header.descr);
  return { shape: header.shape, bits: npyBits(reader, header.shape.reduce((a, b) => a * b, 1), bool) };
}

async function* npyBits(reader: ByteReader, cells: number, bool: boolean): AsyncIterable<Uint8Array> {
  const writer = new PackedBitsWriter();
  let left = cells;
  while (left > 0) {
    const piece = await reader.readSome(Math.min(left, 1 << 20));
    if (!piece) throw truncated(`the .npy data (${cells - left} of ${cells} cells arrived)`);
    if (bool) {
      for (let i = 0; i < piece.length; i++) if (piece[i]! > 1) throw invalid(`A bool .npy cell holds ${piece[i]} (cell ${cells - left + i})`);
    }
    left -= piece.length;
    yield* writer.pushCells(piece);
  }
  if (!(await reader.atEnd())) throw invalid(`The .npy data is longer than its shape's ${cells} cells`);
  yield writer.finish();
}
