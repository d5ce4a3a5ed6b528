/** `catalytic submit <type>`: submit a job on a stored or inline lattice, and optionally wait for it. */
import type { Command } from 'commander';
import type { JobSubmission } from '../../client/index.ts';
import { KernelTypeSchema } from '../../shared/lattice/schema.ts';
import {
  collect,
  hasLatticeFlags,
  type LatticeFlags,
  latticeSpecFromFlags,
  parseCell,
  parseConnectivity,
  parseCount,
  parseFace,
  parseHeatPoint,
  parsePair,
  parseNumber,
  readJsonArgument,
} from './arguments.ts';
import { UsageError } from './cli-errors.ts';
import { withLatticeOptions } from './lattice-options.ts';
import { waitAndReport } from './outcome.ts';
import { clientAction, clientCommand } from './session.ts';

const TYPES = KernelTypeSchema.options;

export interface SubmitOptions extends LatticeFlags {
  lattice?: string;
  start?: number[];
  end?: number[];
  steps?: number;
  alpha?: number;
  source?: Array<{ cell: number[]; value: number }>;
  initial?: Array<{ cell: number[]; value: number }>;
  from?: number[][];
  pair?: Array<{ start: number[]; end: number[] }>;
  face?: { axis: number; side: 'low' | 'high' };
  connectivity?: 'axis' | 'full';
  maxCost?: number;
  ruleSeed?: number;
  points?: number;
  costSeed?: number;
  params?: string;
  artefacts?: string[];
  idempotencyKey?: string;
  wait?: boolean;
  timeout?: number;
  poll?: boolean;
  quiet?: boolean;
  format?: string;
}

/** The job's parameters: `--params` JSON, overridden by the per-field options. */
export function paramsFrom(type: string, options: SubmitOptions): Record<string, unknown> {
  const base = options.params === undefined ? {} : readJsonArgument(options.params, '--params');
  if (!base || typeof base !== 'object' || Array.isArray(base)) throw new UsageError('--params: expected a JSON object');
  const params = { ...(base as Record<string, unknown>) };
  const flag = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const only = (names: Array<keyof SubmitOptions>, ...forTypes: string[]) => {
    for (const name of names) {
      if (options[name] !== undefined && !forTypes.includes(type)) {
        throw new UsageError(`--${flag(String(name))} applies to ${forTypes.join(' and ')} jobs only`);
      }
    }
  };
  only(['start', 'end'], 'shortest_path', 'min_cost_path');
  only(['steps', 'alpha', 'source', 'initial'], 'diffusion');
  only(['from', 'face'], 'distance_field');
  only(['pair'], 'shortest_path');
  only(['ruleSeed', 'points'], 'percolation');
  if (options.ruleSeed !== undefined) params.seed = options.ruleSeed;
  if (options.points !== undefined) params.points = options.points;
  if (options.pair) params.pairs = options.pair;
  only(['connectivity'], 'shortest_path', 'components', 'distance_field', 'min_cost_path');
  only(['maxCost', 'costSeed'], 'min_cost_path', 'distance_field');
  if (options.from) params.sources = options.from;
  if (options.face) params.face = options.face;
  if (options.connectivity) params.connectivity = options.connectivity;
  if (options.maxCost !== undefined || options.costSeed !== undefined) {
    const costs = (params.costs ?? {}) as Record<string, unknown>;
    params.costs = { ...costs, ...(options.maxCost === undefined ? {} : { max: options.maxCost }), ...(options.costSeed === undefined ? {} : { seed: options.costSeed }) };
  }
  if (options.start) params.start = options.start;
  if (options.end) params.end = options.end;
  if (options.steps !== undefined) params.steps = options.steps;
  if (options.alpha !== undefined) params.alpha = options.alpha;
  if (options.source) params.sources = options.source;
  if (options.initial) params.initial = options.initial;
  if (type === 'shortest_path' && params.pairs === undefined && (params.start === undefined || params.end === undefined)) {
    throw new UsageError('shortest_path needs --start and --end (e.g. --start 0,0 --end 99,99), or --pair (repeatable)');
  }
  if (type === 'min_cost_path' && (params.start === undefined || params.end === undefined || params.costs === undefined)) {
    throw new UsageError('min_cost_path needs --start, --end and --max-cost (e.g. --start 0,0 --end 99,99 --max-cost 9 --cost-seed 1)');
  }
  if (type === 'min_cost_path' || (type === 'distance_field' && params.costs !== undefined)) params.costs = { seed: 0, ...(params.costs as object) };
  if (type === 'distance_field' && params.sources === undefined && params.face === undefined) {
    throw new UsageError('distance_field needs --from (repeatable) or --face (e.g. --from 0,0 or --face 0:low)');
  }
  if (type === 'percolation' && params.seed === undefined) {
    throw new UsageError('percolation needs --rule-seed (e.g. --rule-seed 7 --points 101)');
  }
  if (type === 'diffusion' && (params.steps === undefined || params.alpha === undefined)) {
    throw new UsageError('diffusion needs --steps and --alpha (e.g. --steps 100 --alpha 0.2 --source 32,32=1000)');
  }
  return params;
}

/** The diffusion options and `--params`, as `submit` and `sweep` both take them (read by {@link paramsFrom}). */
export function withDiffusionOptions(command: Command): Command {
  return command
    .option('--steps <n>', 'diffusion: time steps', parseCount)
    .option('--alpha <a>', 'diffusion: coefficient per step (at most 1/(2·dimensions))', parseNumber)
    .option('--source <cell=value>', 'diffusion: a constant heat source, e.g. 32,32=1000 (repeatable)', collect(parseHeatPoint))
    .option('--initial <cell=value>', 'diffusion: initial heat at a cell (repeatable)', collect(parseHeatPoint))
    .option('--params <json>', 'job parameters as JSON, @file or - (the options above override its fields)');
}

/** `--artefacts labels,component_sizes`: the names, checked by the API against the job's type. */
function parseNameList(value: string): string[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError('--artefacts: expected names, e.g. labels');
  return names;
}

export function registerSubmitCommand(program: Command): void {
  const command = withLatticeOptions(
    clientCommand(program, 'submit <type>', `submit a job: ${TYPES.join(', ')}`).option(
      '--lattice <id>',
      'a stored lattice (instead of an inline one from the lattice options)',
    ),
  )
    .option('--start <cell>', 'shortest_path, min_cost_path: first cell, e.g. 0,0', parseCell)
    .option('--end <cell>', 'shortest_path, min_cost_path: last cell, e.g. 99,99', parseCell)
    .option('--pair <start:end>', 'shortest_path: one of up to 1,000 pairs in one job, e.g. 0,0:9,9 (repeatable)', collect(parsePair))
    .option('--from <cell>', 'distance_field: a source cell, e.g. 0,0 (repeatable)', collect(parseCell))
    .option('--face <axis:side>', 'distance_field: every open cell of a face as sources, e.g. 0:low', parseFace)
    .option('--connectivity <c>', 'shortest_path, components, distance_field, min_cost_path: axis (2·d neighbours, default) or full (3^d − 1)', parseConnectivity)
    .option('--rule-seed <n>', 'percolation: seed of the obstacle rule whose densities it sweeps', parseCount)
    .option('--points <n>', 'percolation: densities sampled from 0 to 1 (default 101)', parseCount)
    .option('--max-cost <n>', 'min_cost_path, distance_field (distances as costs): largest cell cost of the procedural cost map (1 to 255)', parseCount)
    .option('--cost-seed <n>', 'min_cost_path, distance_field: seed of the procedural cost map (default 0)', parseCount);
  withDiffusionOptions(command)
    .option('--artefacts <names>', 'per-cell artefacts to store, comma-separated: labels (components), field (diffusion); default none', parseNameList)
    .option('--idempotency-key <key>', 'repeat-safe submission: the same key returns the same job')
    .option('--wait', 'wait for the job, showing progress, and print its result')
    .option('--timeout <seconds>', 'with --wait: give up waiting after this long (the job goes on)', parseCount)
    .option('--poll', 'with --wait: poll instead of streaming events')
    .option('--quiet', 'with --wait: no progress output')
    .option('--format <format>', 'result output: table or json (default: table on a terminal, else json)')
    .addHelpText(
      'after',
      `
Examples:
  catalytic submit components --shape 512x512 --density 0.4 --seed 7 --wait
  catalytic submit components --shape 512x512 --density 0.5 --seed 7 --connectivity full --wait
  catalytic submit components --shape 512x512 --density 0.4 --seed 7 --artefacts labels --wait
  catalytic submit shortest_path --lattice <id> --start 0,0 --end 511,511 --wait
  catalytic submit diffusion --shape 64x64 --steps 200 --alpha 0.2 --source 32,32=1000 --wait --json
  catalytic submit distance_field --shape 512x512 --density 0.3 --seed 1 --face 0:low --wait
  catalytic submit percolation --shape 256x256 --rule-seed 7 --points 21 --wait
  catalytic submit min_cost_path --shape 512x512 --start 0,0 --end 511,511 --max-cost 9 --cost-seed 4 --connectivity full --wait

Exit codes with --wait: 0 completed, 1 failed, 3 cancelled, 130 stopped watching (Ctrl-C).`,
    )
    .action(
      clientAction(async (session, rawType: string, options: SubmitOptions) => {
        const type = rawType.replaceAll('-', '_');
        if (!(TYPES as readonly string[]).includes(type)) throw new UsageError(`unknown job type ${rawType}: expected ${TYPES.join(', ')}`);
        if (options.lattice && hasLatticeFlags(options)) throw new UsageError('give either --lattice <id> or an inline lattice, not both');
        if (!options.wait && (options.timeout !== undefined || options.poll || options.quiet)) {
          throw new UsageError('--timeout, --poll and --quiet go with --wait');
        }
        const params = paramsFrom(type, options);
        const lattice = options.lattice ? { lattice_id: options.lattice } : { lattice: latticeSpecFromFlags(options) };
        const artefacts = options.artefacts ? { artefacts: options.artefacts } : {};
        const job = await session.client.jobs.submit({ type, params, ...lattice, ...artefacts } as JobSubmission, {
          idempotencyKey: options.idempotencyKey,
        });
        if (!options.wait) {
          if (session.json) session.printJson(job);
          else session.out(`Submitted job ${job.id} (${job.type}, ${job.status})\nFollow it:  catalytic jobs watch ${job.id}\nResult:     catalytic result ${job.id}`);
          return;
        }
        if (!options.quiet) session.note(`Submitted job ${job.id} (${job.type})`);
        return waitAndReport(session, job.id, options);
      }),
    );
}
