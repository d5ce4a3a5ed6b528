/**
 * From an upload request to a decoded map: the format (from `?format=` or the Content-Type), the
 * byte limit of the caller's plan (a declared Content-Length over it is refused before a byte is
 * read), and the decoder of that format.
 */
import type { IncomingMessage } from 'node:http';
import { AppError } from '../../../shared/errors.ts';
import { MAX_DIMENSIONS, MIN_DIMENSIONS } from '../../../shared/lattice/limits.ts';
import type { Plan } from '../../../shared/plans.ts';
import { openBitsMap } from './bits-map.ts';
import { ByteReader, invalid } from './byte-reader.ts';
import type { DecodedMap, MapFormat } from './decoded-map.ts';
import { openNpyMap } from './npy-map.ts';
import { openPngMap } from './png-map.ts';

/** Content-Types of each format; `application/octet-stream` is packed bits. */
export const MAP_CONTENT_TYPES: Readonly<Record<string, MapFormat>> = {
  'image/png': 'png',
  'application/x-npy': 'npy',
  'application/npy': 'npy',
  'application/octet-stream': 'bits',
};

/** Headroom over the cells for headers and compression that does not pay off. */
const UPLOAD_OVERHEAD_BYTES = 1 << 20;

/**
 * Most bytes an upload may have on this plan: enough for its largest lattice as 8-bit RGBA pixels
 * (4 bytes a cell, the worst a sensible PNG needs) plus headers; 2^34 when cells are unlimited.
 */
export function uploadByteLimit(plan: Pick<Plan, 'max_cells'>): number {
  return plan.max_cells < 0 ? 2 ** 34 : 4 * plan.max_cells + UPLOAD_OVERHEAD_BYTES;
}

/** Parses `?shape=64,64`. */
export function parseShapeParam(text: string | undefined): number[] {
  if (text === undefined) throw invalid('Packed bits need their shape: add ?shape=n0,n1,… (axis 0 first)');
  const shape = text.split(',').map((part) => (/^\s*\d+\s*$/.test(part) ? Number(part) : NaN));
  if (shape.length < MIN_DIMENSIONS || shape.length > MAX_DIMENSIONS || shape.some((side) => !Number.isSafeInteger(side) || side < 1)) {
    throw new AppError('validation_failed', `shape must be ${MIN_DIMENSIONS} to ${MAX_DIMENSIONS} whole numbers of at least 1, comma-separated`, {
      extra: { errors: [{ path: 'query.shape', message: 'must be comma-separated sides, e.g. 64,64' }] },
    });
  }
  return shape;
}

export function formatOf(explicit: MapFormat | undefined, contentType: string | undefined): MapFormat {
  if (explicit) return explicit;
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const format = MAP_CONTENT_TYPES[type];
  if (!format) {
    throw new AppError('unsupported_media_type', `Send the map as ${Object.keys(MAP_CONTENT_TYPES).join(', ')} (or name it with ?format=)`);
  }
  return format;
}

export async function openUploadedMap(request: IncomingMessage, format: MapFormat, plan: Plan, shapeParam: string | undefined): Promise<DecodedMap> {
  const limit = uploadByteLimit(plan);
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    throw new AppError('payload_too_large', `The upload is ${declared} bytes; the ${plan.name} plan accepts at most ${limit}`);
  }
  const reader = new ByteReader(request, limit);
  switch (format) {
    case 'png':
      return openPngMap(reader);
    case 'npy':
      return openNpyMap(reader);
    case 'bits':
      return openBitsMap(reader, parseShapeParam(shapeParam));
  }
}
