/**
 * Division by a fixed divisor as a multiply and a shift (Granlund and Montgomery's round-up
 * method): for 0 ≤ n < 2^31, floor(n / d) = (n · magic) >> shift in 64-bit unsigned arithmetic.
 * The search's expansion divides every frontier cell by the row length (and, in 3-D and up, an
 * offset by each inner period); a hardware division costs several times a multiply.
 */
export interface DivisionMagic {
  magic: bigint;
  shift: number;
}

/** The magic of divisor `d`, 1 ≤ d < 2^31. */
export function divisionMagic(d: number): DivisionMagic {
  if (!Number.isSafeInteger(d) || d < 1 || d >= 2 ** 31) throw new RangeError(`divisor out of range: ${d}`);
  let log = 0;
  while (2 ** log < d) log++;
  // magic · d lies in (2^shift, 2^shift + d], d ≤ 2^log: the error stays below one for n < 2^31,
  // and magic ≤ 2^32, so n · magic < 2^64.
  const shift = 31 + log;
  return { magic: (1n << BigInt(shift)) / BigInt(d) + 1n, shift };
}

/** floor(n / d) as the expansion computes it (for tests). */
export function divideByMagic(n: number, { magic, shift }: DivisionMagic): number {
  return Number(((BigInt(n) * magic) & 0xffff_ffff_ffff_ffffn) >> BigInt(shift));
}
