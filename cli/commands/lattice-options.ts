/** The lattice options shared by `lattice create` and `submit`. */
import type { Command } from 'commander';
import { collect, parseCell, parseCount, parseProbability, parseShape } from './arguments.ts';

export function withLatticeOptions(command: Command): Command {
  return command
    .option('--shape <sides>', 'side lengths, e.g. 256x256 or 64,64,64', parseShape)
    .option('--size <n>', 'side length of a cube lattice (with --dimensions)', parseCount)
    .option('--dimensions <d>', 'axes of a cube lattice (with --size)', parseCount)
    .option('--boundary <kind>', 'open (default) or periodic, or one per axis: periodic,open')
    .option('--density <p>', 'procedural obstacles: probability a cell is blocked, 0..1', parseProbability)
    .option('--seed <n>', 'procedural obstacles: seed of the public rule', parseCount)
    .option('--blocked <cell>', 'an explicit blocked cell, e.g. 3,4 (repeatable)', collect(parseCell))
    .option('--spec <json>', 'the lattice spec as JSON, @file or - for stdin (the options above override its fields)');
}
