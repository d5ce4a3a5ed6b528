/**
 * Parsers of command-line values: cells (`3,4`), shapes (`256x256`), numbers, heat points
 * (`3,4=100`), JSON given inline, from a file (`@params.json`) or from stdin (`-`). A bad value is
 * a usage error (exit 2) naming the option.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import type { LatticeSpecInput } from '../../client/index.ts';
import { UsageError } from './cli-errors.ts';

/** Cell coordinates: non-negative integers separated by commas, e.g. `0,0,12`. */
export function parseCell(value: string): number[] {
  const parts = value.split(/[,\s]+/).filter(Boolean);
  if (parts.length === 0 || !parts.every((p) => /^\d+$/.test(p))) {
    throw new InvalidArgumentError('expected coordinates like 0,0 (non-negative integers, comma-separated)');
  }
  return parts.map(Number);
}

/** A pair of cells: `START:END`, e.g. `0,0:9,9`. */
export function parsePair(value: string): { start: number[]; end: number[] } {
  const parts = value.split(':');
  if (parts.length !== 2) throw new InvalidArgumentError('expected START:END, e.g. 0,0:9,9');
  return { start: parseCell(parts[0]!), end: parseCell(parts[1]!) };
}

/** A face of the lattice: `AXIS:low` or `AXIS:high`, e.g. `0:low`. */
export function parseFace(value: string): { axis: number; side: 'low' | 'high' } {
  const match = /^(\d+):(low|high)$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('expected AXIS:low or AXIS:high, e.g. 0:low');
  return { axis: Number(match[1]), side: match[2] as 'low' | 'high' };
}

/** A connectivity: `axis` or `full`. */
export function parseConnectivity(value: string): 'axis' | 'full' {
  if (value !== 'axis' && value !== 'full') throw new InvalidArgumentError('expected axis or full');
  return value;
}

/** A shape: side lengths separated by `x` or commas, e.g. `512x512` or `64,64,64`. */
export function parseShape(value: string): number[] {
  const parts = value.split(/[x×,\s]+/i).filter(Boolean);
  if (parts.length === 0 || !parts.every((p) => /^\d+$/.test(p) && Number(p) > 0)) {
    throw new InvalidArgumentError('expected side lengths like 256x256 (positive integers)');
  }
  return parts.map(Number);
}

/** A non-negative integer. */
export function parseCount(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a non-negative integer');
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

/** A finite number. */
export function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

/** A probability in [0, 1]. */
export function parseProbability(value: string): number {
  const n = parseNumber(value);
  if (n < 0 || n > 1) throw new InvalidArgumentError('expected a number between 0 and 1');
  return n;
}

/** A heat point `cell=value`, e.g. `32,32=1000`. */
export function parseHeatPoint(value: string): { cell: number[]; value: number } {
  const at = value.lastIndexOf('=');
  if (at <= 0) throw new InvalidArgumentError('expected cell=value, e.g. 32,32=1000');
  return { cell: parseCell(value.slice(0, at)), value: parseNumber(value.slice(at + 1)) };
}

/** Collects a repeatable option's values. */
export function collect<T>(parse: (value: string) => T) {
  return (value: string, previous: T[] | undefined): T[] => [...(previous ?? []), parse(value)];
}

/** A comma-separated list, e.g. `jobs:read,jobs:write`. */
export function parseList(value: string): string[] {
  const items = value.split(/[,\s]+/).filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('expected a comma-separated list');
  return items;
}

/** Reads JSON given inline, as `@file`, or as `-` (stdin). */
export function readJsonArgument(value: string, option: string): unknown {
  let text = value;
  let where = 'the value';
  if (value === '-') {
    text = readFileSync(0, 'utf8');
    where = 'stdin';
  } else if (value.startsWith('@')) {
    where = value.slice(1);
    try {
      text = readFileSync(where, 'utf8');
    } catch (err) {
      throw new UsageError(`${option}: cannot read ${where}: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${option}: ${where} is not valid JSON (${(err as Error).message})`);
  }
}

/** Lattice options shared by `lattice create` and `submit`. */
export interface LatticeFlags {
  spec?: string;
  shape?: number[];
  size?: number;
  dimensions?: number;
  boundary?: string;
  density?: number;
  seed?: number;
  blocked?: number[][];
}

/** Whether any inline lattice option was given. */
export function hasLatticeFlags(flags: LatticeFlags): boolean {
  return [flags.spec, flags.shape, flags.size, flags.dimensions, flags.boundary, flags.density, flags.seed, flags.blocked].some(
    (v) => v !== undefined,
  );
}

/**
 * A lattice spec from `--spec` (JSON) or from the shape, boundary and obstacle options (which
 * override the same fields of `--spec`).
 */
export function latticeSpecFromFlags(flags: LatticeFlags): LatticeSpecInput {
  const base = flags.spec ? readJsonArgument(flags.spec, '--spec') : {};
  if (!base || typeof base !== 'object' || Array.isArray(base)) throw new UsageError('--spec: expected a JSON object');
  const spec = { ...(base as Record<string, unknown>) };
  if (flags.shape) {
    spec.shape = flags.shape;
    delete spec.size;
    delete spec.dimensions;
  }
  if (flags.size !== undefined || flags.dimensions !== undefined) {
    if (flags.shape) throw new UsageError('give either --shape, or --size and --dimensions');
    if (flags.size === undefined || flags.dimensions === undefined) throw new UsageError('--size and --dimensions go together');
    spec.size = flags.size;
    spec.dimensions = flags.dimensions;
    delete spec.shape;
  }
  if (flags.boundary !== undefined) {
    // One value, or one per axis separated by commas (periodic,open: a cylinder).
    const each = flags.boundary.split(',');
    if (!each.every((b) => b === 'open' || b === 'periodic')) throw new UsageError('--boundary: expected open or periodic, or one per axis such as periodic,open');
    spec.boundary = each.length === 1 ? (each[0] as 'open' | 'periodic') : (each as Array<'open' | 'periodic'>);
  }
  if (flags.density !== undefined || flags.seed !== undefined) {
    if (flags.blocked) throw new UsageError('give either --density and --seed, or --blocked');
    spec.obstacles = { density: flags.density ?? 0, seed: flags.seed ?? 0 };
  } else if (flags.blocked) {
    spec.obstacles = { blocked: flags.blocked };
  }
  if (spec.shape === undefined && spec.size === undefined) {
    throw new UsageError('a lattice needs --shape (e.g. 256x256), --size with --dimensions, or --spec');
  }
  return spec as LatticeSpecInput;
}
