/**
 * The header of a NumPy `.npy` file (format 1.0) for a C-ordered array: what goes before an
 * artefact's raw little-endian bytes so that `np.load` reads them unchanged.
 */

/** An array's dtype (`<u4`, `<f4`…) and shape, as artefacts record them in their blob's meta. */
export interface ArrayMeta {
  dtype: string;
  shape: number[];
}

export function npyHeader(meta: ArrayMeta): Buffer {
  const shape = meta.shape.length === 1 ? `(${meta.shape[0]},)` : `(${meta.shape.join(', ')})`;
  let dict = `{'descr': '${meta.dtype}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Magic (6) + version (2) + length (2) + dict + padding + newline: a multiple of 64.
  dict += ' '.repeat(63 - ((10 + dict.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1')]);
}
