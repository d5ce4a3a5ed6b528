/** What a map decoder hands on: the shape (known from the header alone) and the packed bits. */
export interface DecodedMap {
  /** One side per axis, axis 0 first. */
  shape: number[];
  /**
   * The map as packed bits (packed-bits.ts), decoded as the body arrives. Throws `upload_invalid`
   * or `upload_truncated` when the body turns out not to match its header.
   */
  bits: AsyncIterable<Uint8Array>;
}

/** Upload formats: packed bits with the shape given, a NumPy `.npy` array, or a 2-D PNG. */
export const MAP_FORMATS = ['bits', 'npy', 'png'] as const;
export type MapFormat = (typeof MAP_FORMATS)[number];
