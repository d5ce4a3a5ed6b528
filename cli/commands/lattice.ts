/** `catalytic lattice create | list | show | delete`. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { Lattice, LatticeUploadOptions } from '../../client/index.ts';
import { type LatticeFlags, latticeSpecFromFlags } from './arguments.ts';
import { formatCount, formatTime, renderFields } from './format.ts';
import { listPages, type PagingFlags, printPage, withPagingOptions } from './list-pages.ts';
import { withLatticeOptions } from './lattice-options.ts';
import { UsageError } from './cli-errors.ts';
import { clientAction, clientCommand } from './session.ts';

function obstaclesText(lattice: Lattice): string {
  const obstacles = lattice.spec.obstacles;
  if (!obstacles) return 'none';
  if ('density' in obstacles) return `procedural, density ${obstacles.density}, seed ${obstacles.seed}`;
  if ('map' in obstacles) return `uploaded map ${obstacles.map}`;
  return `${formatCount(obstacles.blocked.length)} explicit blocked cells`;
}

/** One boundary, or one per axis joined as the --boundary option takes them. */
function boundaryText(boundary: string | readonly string[]): string {
  return typeof boundary === 'string' ? boundary : boundary.join(',');
}

function latticeFields(lattice: Lattice): string {
  return renderFields([
    ['id', lattice.id],
    ['name', lattice.name ?? '-'],
    ['shape', lattice.shape.join('x')],
    ['cells', formatCount(lattice.cells)],
    ['boundary', boundaryText(lattice.spec.boundary)],
    ['obstacles', obstaclesText(lattice)],
    ['created', formatTime(lattice.created_at)],
    ['updated', formatTime(lattice.updated_at)],
  ]);
}

export function registerLatticeCommands(program: Command): void {
  const lattice = program.command('lattice').description('store, list, show and delete lattices');

  withLatticeOptions(clientCommand(lattice, 'create', 'store a lattice spec for jobs to use by id'))
    .option('--name <name>', 'a name for people')
    .action(
      clientAction(async (session, options: LatticeFlags & { name?: string }) => {
        const spec = latticeSpecFromFlags(options);
        const created = await session.client.lattices.create({ ...spec, ...(options.name ? { name: options.name } : {}) });
        if (session.json) session.printJson(created);
        else session.out(latticeFields(created));
      }),
    );

  withPagingOptions(clientCommand(lattice, 'list', "list the tenant's lattices, newest first"), 'lattices').action(
    clientAction(async (session, options: PagingFlags) => {
      const page = await listPages(options, {
        page: (limit, cursor) => session.client.lattices.list({ limit, cursor }),
        all: (limit) => session.client.lattices.all({ limit }),
      });
      printPage(
        session,
        page,
        [
          { header: 'ID', value: (l) => l.id },
          { header: 'NAME', value: (l) => l.name ?? '-' },
          { header: 'SHAPE', value: (l) => l.shape.join('x') },
          { header: 'CELLS', value: (l) => formatCount(l.cells), align: 'right' },
          { header: 'BOUNDARY', value: (l) => boundaryText(l.boundary) },
          { header: 'OBSTACLES', value: (l) => l.obstacles },
          { header: 'CREATED', value: (l) => formatTime(l.created_at) },
        ],
        'catalytic lattice list',
        'no lattices yet; create one with: catalytic lattice create --name maze --shape 10x10 --density 0.25 --seed 3',
      );
    }),
  );

  clientCommand(lattice, 'upload <file>', 'upload an obstacle map (.png: dark pixels blocked; .npy: bool or uint8, nonzero blocked; else packed bits with --shape) as a new lattice')
    .option('--format <format>', 'png, npy or bits (default: from the file name)')
    .option('--shape <sides>', 'packed bits only: the sides, e.g. 64x64')
    .option('--boundary <boundary>', 'open or periodic', 'open')
    .option('--name <name>', 'a name for people')
    .action(
      clientAction(async (session, file: string, options: { format?: string; shape?: string; boundary: string; name?: string }) => {
        const format = (options.format ?? (extname(file).toLowerCase() === '.png' ? 'png' : extname(file).toLowerCase() === '.npy' ? 'npy' : 'bits')) as LatticeUploadOptions['format'];
        if (!['png', 'npy', 'bits'].includes(format)) throw new UsageError(`--format must be png, npy or bits, not ${format}`);
        if (format === 'bits' && !options.shape) throw new UsageError('packed bits need their shape: --shape 64x64');
        if (options.boundary !== 'open' && options.boundary !== 'periodic') throw new UsageError('--boundary must be open or periodic');
        const { size } = await stat(file);
        // Streamed from disk: a map of any size is never read whole into memory.
        const data = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
        const created = await session.client.lattices.upload(data, {
          format,
          length: size,
          boundary: options.boundary,
          ...(options.shape ? { shape: options.shape.split(/[x,]/).map(Number) } : {}),
          ...(options.name ? { name: options.name } : {}),
        });
        if (session.json) session.printJson(created);
        else session.out(latticeFields(created));
      }),
    );

  clientCommand(lattice, 'show <id>', 'show a lattice and its spec')
    .action(
      clientAction(async (session, id: string) => {
        const found = await session.client.lattices.get(id);
        if (session.json) session.printJson(found);
        else session.out(latticeFields(found));
      }),
    );

  clientCommand(lattice, 'delete <id>', 'delete a lattice (jobs keep their own copy of its spec)')
    .action(
      clientAction(async (session, id: string) => {
        await session.client.lattices.delete(id);
        if (session.json) session.printJson({ id, deleted: true });
        else session.out(`Deleted lattice ${id}`);
      }),
    );
}
