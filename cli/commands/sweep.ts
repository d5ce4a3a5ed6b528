/**
 * `catalytic sweep <type>`: a grid of procedural lattices (densities × seeds) submitted as batches
 * of at most 1,000 jobs, followed with one progress bar, and each job's parameters written with
 * its result summary as CSV or JSON Lines.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { extname } from 'node:path';
import type { Writable } from 'node:stream';
import { type Command, InvalidArgumentError } from 'commander';
import type { Batch, BatchResultLine, BatchSubmission } from '../../client/index.ts';
import { MAX_BATCH_JOBS } from '../../shared/wire/batches.ts';
import { collect, parseCell, parseShape } from './arguments.ts';
import { exitCodeForCounts, followBatches } from './batch-progress.ts';
import { UsageError } from './cli-errors.ts';
import { paramsFrom, type SubmitOptions, withDiffusionOptions } from './submit.ts';
import { clientAction, clientCommand } from './session.ts';

/** The kernels a sweep runs, and the summary fields its output carries for each. */
const SUMMARY_COLUMNS: Record<string, readonly string[]> = {
  shortest_path: ['reachable', 'length', 'visited'],
  components: ['count', 'largest', 'spans_axis0'],
  diffusion: ['total_heat', 'min', 'max', 'mean'],
};
const TYPES = Object.keys(SUMMARY_COLUMNS);

/** Most grid points one sweep may have (its batches are submitted one after the other). */
const MAX_SWEEP_JOBS = 100_000;

/** `start:stop:step`, stop included within float tolerance; or one density. */
export function parseDensityRange(value: string): number[] {
  const parts = value.split(':').map((p) => Number(p));
  if (parts.some((n, i) => !Number.isFinite(n) || value.split(':')[i]!.trim() === '')) throw new InvalidArgumentError('expected a density or START:STOP:STEP, e.g. 0.1:0.5:0.05');
  if (parts.length === 1) parts.push(parts[0]!, 1);
  if (parts.length !== 3) throw new InvalidArgumentError('expected a density or START:STOP:STEP, e.g. 0.1:0.5:0.05');
  const [start, stop, step] = parts as [number, number, number];
  if (!(step > 0) || stop < start) throw new InvalidArgumentError('expected STEP > 0 and STOP ≥ START');
  const count = Math.floor((stop - start) / step + 1e-9) + 1;
  if (count > MAX_SWEEP_JOBS) throw new InvalidArgumentError(`at most ${MAX_SWEEP_JOBS} densities`);
  // Rounded so 0.1 + 2·0.05 prints as 0.2, not 0.20000000000000004.
  const values = Array.from({ length: count }, (_, i) => Number((start + i * step).toPrecision(12)));
  if (values.some((d) => d < 0 || d > 1)) throw new InvalidArgumentError('densities must lie between 0 and 1');
  return values;
}

/** `a..b` inclusive, or one seed. */
export function parseSeedRange(value: string): number[] {
  const match = /^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected a seed or A..B, e.g. 1..20');
  const a = Number(match[1]);
  const b = match[2] === undefined ? a : Number(match[2]);
  if (b < a) throw new InvalidArgumentError('expected A ≤ B');
  if (b - a + 1 > MAX_SWEEP_JOBS) throw new InvalidArgumentError(`at most ${MAX_SWEEP_JOBS} seeds`);
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

function parseLabel(value: string): [string, string] {
  const at = value.indexOf(':');
  if (at <= 0) throw new InvalidArgumentError('expected KEY:VALUE, e.g. study:porosity');
  return [value.slice(0, at), value.slice(at + 1)];
}

interface SweepOptions extends SubmitOptions {
  shape?: number[];
  boundary?: string;
  densities?: number[];
  seeds?: number[];
  out?: string;
  label?: Array<[string, string]>;
  quiet?: boolean;
}

/** One output row: the grid point, the job, and its result summary's fields. */
function rowOf(point: { density: number; seed: number }, line: BatchResultLine, columns: readonly string[]): Record<string, unknown> {
  const summary = (line.result_summary ?? {}) as Record<string, unknown>;
  const row: Record<string, unknown> = { density: point.density, seed: point.seed, job_id: line.id, status: line.status };
  for (const column of columns) row[column] = summary[column] ?? null;
  row.error = line.error ? line.error.code : null;
  return row;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

export function registerSweepCommand(program: Command): void {
  const command = clientCommand(program, 'sweep <type>', `run one kernel over a grid of procedural lattices (densities × seeds): ${TYPES.join(', ')}`)
    .requiredOption('--shape <sides>', 'side lengths of every lattice, e.g. 64x64', parseShape)
    .option('--boundary <kind>', 'open (default) or periodic')
    .requiredOption('--density <range>', 'obstacle densities START:STOP:STEP (STOP included), or one density, e.g. 0.1:0.5:0.05', parseDensityRange)
    .requiredOption('--seed <range>', 'obstacle seeds A..B (inclusive), or one seed, e.g. 1..20', parseSeedRange)
    .option('--start <cell>', 'shortest_path: first cell, e.g. 0,0', parseCell)
    .option('--end <cell>', 'shortest_path: last cell, e.g. 63,63', parseCell);
  withDiffusionOptions(command)
    .option('--label <key:value>', 'a label on every batch of the sweep (repeatable)', collect(parseLabel))
    .option('--out <file>', 'write the rows to a file: .csv for CSV with a header row, otherwise JSON Lines (default: JSON Lines on stdout)')
    .option('--quiet', 'no progress output')
    .addHelpText(
      'after',
      `
Supported kernels: shortest_path (--start, --end), components, diffusion (--steps, --alpha,
--source, --initial). Each row holds density, seed, job_id, status, the result summary's fields
(shortest_path: reachable, length, visited; components: count, largest, spans_axis0; diffusion:
total_heat, min, max, mean) and the error code of a failed job, in grid order (density, then seed).

Examples:
  catalytic sweep shortest_path --shape 64x64 --density 0.1:0.5:0.05 --seed 1..20 --start 0,0 --end 63,63 --out results.csv
  catalytic sweep components --shape 128x128 --density 0.3:0.7:0.1 --seed 1..10 --label study:percolation

Exit codes: 0 every job completed, 1 a job failed, 3 a job was cancelled (and none failed).`,
    )
    .action(
      clientAction(async (session, rawType: string, options: SweepOptions) => {
        const type = rawType.replaceAll('-', '_');
        const columns = SUMMARY_COLUMNS[type];
        if (!columns) throw new UsageError(`sweep runs ${TYPES.join(', ')}; got ${rawType}`);
        if (options.boundary !== undefined && options.boundary !== 'open' && options.boundary !== 'periodic') {
          throw new UsageError('--boundary: expected open or periodic');
        }
        // commander gives --density and --seed the parsed ranges.
        const densities = options.density as unknown as number[];
        const seeds = options.seed as unknown as number[];
        const points = densities.flatMap((density) => seeds.map((seed) => ({ density, seed })));
        if (points.length > MAX_SWEEP_JOBS) throw new UsageError(`a sweep has at most ${MAX_SWEEP_JOBS} jobs; this one has ${points.length}`);
        const params = paramsFrom(type, options);
        const labels = options.label ? Object.fromEntries(options.label) : undefined;
        const lattice = (point: { density: number; seed: number }) => ({
          shape: options.shape!,
          ...(options.boundary ? { boundary: options.boundary } : {}),
          obstacles: { density: point.density, seed: point.seed },
        });

        const batches: Batch[] = [];
        for (let from = 0; from < points.length; from += MAX_BATCH_JOBS) {
          const chunk = points.slice(from, from + MAX_BATCH_JOBS);
          const submission = { defaults: { type, params }, labels, jobs: chunk.map((point) => ({ lattice: lattice(point) })) } as BatchSubmission;
          batches.push(await session.client.batches.submit(submission));
        }
        if (!options.quiet) {
          session.note(`Submitted ${points.length} jobs in ${batches.length} batch${batches.length === 1 ? '' : 'es'}: ${batches.map((b) => b.id).join(', ')}`);
        }
        const counts = await followBatches(session, `sweep of ${points.length} jobs`, batches, { quiet: options.quiet });

        const csv = options.out !== undefined && extname(options.out).toLowerCase() === '.csv';
        const stream: Writable = options.out ? createWriteStream(options.out) : process.stdout;
        const header = ['density', 'seed', 'job_id', 'status', ...columns, 'error'];
        if (csv) await write(stream, `${header.join(',')}\n`);
        let offset = 0;
        for (const batch of batches) {
          for await (const line of session.client.batches.results(batch.id)) {
            const point = points[offset + line.index]!;
            const row = rowOf(point, line, columns);
            await write(stream, csv ? `${header.map((key) => csvCell(row[key])).join(',')}\n` : `${JSON.stringify(row)}\n`);
          }
          offset += batch.total;
        }
        if (options.out) {
          stream.end();
          await once(stream, 'finish');
          if (!options.quiet) session.note(`Wrote ${points.length} rows to ${options.out}`);
        }
        return exitCodeForCounts(counts);
      }),
    );
}
