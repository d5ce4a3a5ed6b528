/** `catalytic batches list | show | cancel | watch`. */
import type { Command } from 'commander';
import type { Batch } from '../../client/index.ts';
import { exitCodeForCounts, followBatches } from './batch-progress.ts';
import { formatPercent, formatTime, renderFields } from './format.ts';
import { listPages, type PagingFlags, printPage, withPagingOptions } from './list-pages.ts';
import { clientAction, clientCommand } from './session.ts';

function labelsText(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}:${v}`);
  return pairs.length ? pairs.join(',') : '-';
}

export function batchFields(batch: Batch): string {
  const { counts } = batch;
  return renderFields([
    ['id', batch.id],
    ['status', batch.status],
    ['jobs', String(batch.total)],
    ['progress', formatPercent(batch.progress)],
    ['queued', String(counts.queued)],
    ['running', String(counts.running)],
    ['completed', String(counts.completed)],
    ['failed', String(counts.failed)],
    ['cancelled', String(counts.cancelled)],
    ['labels', labelsText(batch.labels)],
    ['created', formatTime(batch.created_at)],
    ['completed at', formatTime(batch.completed_at)],
  ]);
}

export function registerBatchCommands(program: Command): void {
  const batches = program.command('batches').description('list, show, cancel and watch batches of jobs (see `catalytic sweep`)');

  withPagingOptions(clientCommand(batches, 'list', 'list batches, newest first'), 'batches').action(
    clientAction(async (session, options: PagingFlags) => {
      const page = await listPages(options, {
        page: (limit, cursor) => session.client.batches.list({ limit, cursor }),
        all: (limit) => session.client.batches.all({ limit }),
      });
      printPage(
        session,
        page,
        [
          { header: 'ID', value: (b) => b.id },
          { header: 'STATUS', value: (b) => b.status },
          { header: 'JOBS', value: (b) => String(b.total), align: 'right' },
          { header: 'FINISHED', value: (b) => String(b.finished), align: 'right' },
          { header: 'PROGRESS', value: (b) => formatPercent(b.progress), align: 'right' },
          { header: 'CREATED', value: (b) => formatTime(b.created_at) },
          { header: 'LABELS', value: (b) => labelsText(b.labels) },
        ],
        'catalytic batches list',
        'no batches yet; run a sweep with: catalytic sweep shortest_path --shape 32x32 --density 0.1:0.5:0.1 --seed 1..5 --start 0,0 --end 31,31',
      );
    }),
  );

  clientCommand(batches, 'show <id>', "show a batch and its jobs' counts by state").action(
    clientAction(async (session, id: string) => {
      const batch = await session.client.batches.get(id);
      if (session.json) session.printJson(batch);
      else session.out(batchFields(batch));
    }),
  );

  clientCommand(batches, 'cancel <id>', 'cancel every unfinished job of a batch').action(
    clientAction(async (session, id: string) => {
      const batch = await session.client.batches.cancel(id);
      if (session.json) session.printJson(batch);
      else session.out(`Cancelled the unfinished jobs of batch ${id} (${batch.counts.cancelled} cancelled, ${batch.counts.completed} completed, ${batch.counts.failed} failed)`);
    }),
  );

  clientCommand(batches, 'watch <id>', 'follow a batch with one progress bar until every job has ended, then print its counts')
    .addHelpText('after', '\nExit codes: 0 every job completed, 1 a job failed, 3 a job was cancelled (and none failed).')
    .action(
      clientAction(async (session, id: string) => {
        const counts = await followBatches(session, `batch ${id}`, [await session.client.batches.get(id)]);
        const batch = await session.client.batches.get(id);
        if (session.json) session.printJson(batch);
        else session.out(batchFields(batch));
        return exitCodeForCounts(counts);
      }),
    );
}
