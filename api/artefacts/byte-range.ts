/** One HTTP byte range (RFC 9110 › Range): `bytes=a-b`, `bytes=a-` or `bytes=-n`, over `total` bytes. */
import { AppError } from '../../shared/errors.ts';
import type { ByteRange } from '../../shared/blobs/index.ts';

/** The range asked for, undefined for the whole; 416 when it lies outside. Several ranges are answered whole. */
export function parseRange(header: string | undefined, total: number): ByteRange | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    start = Math.max(0, total - suffix);
    end = total - 1;
    if (suffix === 0) start = total;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? total - 1 : Math.min(Number(match[2]), total - 1);
  }
  if (start >= total || start > end) {
    throw new AppError('range_not_satisfiable', `The range ${header} lies outside the ${total} bytes`, { headers: { 'Content-Range': `bytes */${total}` } });
  }
  return { start, end };
}
