/**
 * The public procedural cost rule (docs/architecture.md › Cost maps): the cost of entering a
 * cell, a positive integer, from `{max, seed}`. Like the obstacle rule, any client can reproduce a
 * cost map from these few lines, so they must never change; a test pins known cells. The seed
 * multiplier differs from the obstacle rule's, so the same seed gives unrelated obstacles and costs.
 */
import { lowbias32 } from './lowbias32.ts';

/** The multiplier that spreads cost seeds over the hash input (murmur3's 0x85ebca6b). */
const COST_SEED_MULTIPLIER = 0x85ebca6b;

/** The seed's additive offset, `imul(seed, 0x85ebca6b)` as an unsigned integer. */
export function costSeedOffset(seed: number): number {
  return Math.imul(seed, COST_SEED_MULTIPLIER) >>> 0;
}

/**
 * The cost of entering cell `index`: `1 + lowbias32((index + offset) >>> 0) mod max`, in [1, max].
 *
 * @param offset - {@link costSeedOffset} of the seed
 */
export function cellCost(index: number, max: number, offset: number): number {
  const hash = lowbias32((index + offset) >>> 0);
  // hash mod max from its two 16-bit halves, in small integers (a hash past 2^31 is no small integer).
  return 1 + ((((hash >>> 16) * (65536 % max)) + (hash & 0xffff)) % max);
}
