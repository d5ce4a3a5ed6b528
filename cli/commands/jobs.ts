/** `catalytic jobs list | show | cancel | watch` and `catalytic result <id>`. */
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { CatalyticApiError, isFinalStatus, JOB_STATUSES, type Job, type JobListQuery } from '../../client/index.ts';
import { KernelTypeSchema } from '../../shared/lattice/schema.ts';
import { parseCount } from './arguments.ts';
import { CommandFailure, UsageError } from './cli-errors.ts';
import { CLIENT_EXIT } from './exit-codes.ts';
import { formatDuration, formatPercent, formatTime, renderFields } from './format.ts';
import { listPages, type PagingFlags, printPage, withPagingOptions } from './list-pages.ts';
import { reportFinal, resultFormat, waitAndReport } from './outcome.ts';
import { elapsedMs } from './progress-view.ts';
import { renderResult } from './result-view.ts';
import { clientAction, clientCommand } from './session.ts';

function jobFields(job: Job): string {
  return renderFields([
    ['id', job.id],
    ['type', job.type],
    ['status', job.status],
    ['progress', formatPercent(job.progress)],
    ['attempts', String(job.attempts)],
    ['created', formatTime(job.created_at)],
    ['started', formatTime(job.started_at)],
    ['finished', formatTime(job.finished_at)],
    ['queue wait', formatDuration(job.queue_wait_ms)],
    ['run time', formatDuration(job.run_ms)],
    ['elapsed', formatDuration(elapsedMs(job))],
    ...(job.error ? ([['error', `${job.error.code}: ${job.error.message}`]] as const) : []),
    ...(job.result ? ([['result', `catalytic result ${job.id}`]] as const) : []),
  ]);
}

function checkQuery(options: { status?: string; type?: string }): void {
  if (options.status && !(JOB_STATUSES as readonly string[]).includes(options.status)) {
    throw new UsageError(`--status: expected one of ${JOB_STATUSES.join(', ')}`);
  }
  if (options.type && !(KernelTypeSchema.options as readonly string[]).includes(options.type)) {
    throw new UsageError(`--type: expected one of ${KernelTypeSchema.options.join(', ')}`);
  }
}

export function registerJobCommands(program: Command): void {
  const jobs = program.command('jobs').description('list, show, cancel and watch jobs');

  withPagingOptions(
    clientCommand(jobs, 'list', 'list jobs, newest first')
      .option('--status <status>', `only jobs in this state: ${JOB_STATUSES.join(', ')}`)
      .option('--type <type>', `only jobs of this type: ${KernelTypeSchema.options.join(', ')}`),
    'jobs',
  ).action(
    clientAction(async (session, options: PagingFlags & { status?: string; type?: string }) => {
      checkQuery(options);
      const query = { status: options.status, type: options.type } as JobListQuery;
      const page = await listPages(options, {
        page: (limit, cursor) => session.client.jobs.list({ ...query, limit, cursor }),
        all: (limit) => session.client.jobs.all({ ...query, limit }),
      });
      printPage(
        session,
        page,
        [
          { header: 'ID', value: (j) => j.id },
          { header: 'TYPE', value: (j) => j.type },
          { header: 'STATUS', value: (j) => j.status },
          { header: 'PROGRESS', value: (j) => formatPercent(j.progress), align: 'right' },
          { header: 'CREATED', value: (j) => formatTime(j.created_at) },
          { header: 'RUN', value: (j) => formatDuration(j.run_ms), align: 'right' },
        ],
        'catalytic jobs list',
        options.status || options.type
          ? 'no jobs match'
          : 'no jobs yet; submit one with: catalytic submit shortest_path --shape 10x10 --start 0,0 --end 9,9 --wait',
      );
    }),
  );

  clientCommand(jobs, 'show <id>', 'show a job')
    .action(
      clientAction(async (session, id: string) => {
        const job = await session.client.jobs.get(id);
        if (session.json) session.printJson(job);
        else session.out(jobFields(job));
      }),
    );

  clientCommand(jobs, 'cancel <id>', 'cancel a job: a queued one never runs, a running one stops within a second')
    .option('--wait', 'wait until the job is cancelled (exit 3), or ended otherwise')
    .action(
      clientAction(async (session, id: string, options: { wait?: boolean }) => {
        const job = await session.client.jobs.cancel(id);
        if (options.wait && !isFinalStatus(job.status)) {
          return waitAndReport(session, id, { quiet: true });
        }
        if (session.json) session.printJson(job);
        else session.out(job.status === 'cancelled' ? `Cancelled job ${id}` : `Cancelling job ${id} (it is ${job.status}; it stops within a second)`);
        return options.wait && job.status === 'cancelled' ? CLIENT_EXIT.cancelled : CLIENT_EXIT.ok;
      }),
    );

  clientCommand(jobs, 'watch <id>', 'follow a job with a live progress bar until it ends, then print its result')
    .option('--timeout <seconds>', 'give up watching after this long (the job goes on)', parseCount)
    .option('--poll', 'poll instead of streaming events')
    .option('--format <format>', 'result output: table or json (default: table on a terminal, else json)')
    .addHelpText(
      'after',
      '\nWith --json, each change is printed as one JSON line.\nCtrl-C asks whether to cancel the job. Exit codes: 0 completed, 1 failed, 3 cancelled, 130 stopped watching.',
    )
    .action(
      clientAction(async (session, id: string, options: { timeout?: number; poll?: boolean; format?: string }) =>
        waitAndReport(session, id, { ...options, ndjson: true }),
      ),
    );

  clientCommand(program, 'result <id>', "print a completed job's result (a table on a terminal, else JSON)")
    .option('--format <format>', 'table or json (default: table on a terminal, else json)')
    .option('--table', 'same as --format table')
    .option('--download <file>', 'save an artefact to a file instead, streamed: labels.npy, component_sizes.npy, path.npy, field.npy (.bin for raw bytes)')
    .option('--png <file>', 'save the job\'s picture (PNG) to a file instead, streamed')
    .option('--slice <axis:index>', 'with --png: the 2-D slice of a larger lattice, e.g. 2:10 (several: 2:10,3:0)')
    .option('--scale <pixels>', 'with --png: pixels per cell', parseCount)
    .addHelpText('after', '\nExit codes: 0 printed, 1 the job failed or has no result yet, 3 the job was cancelled.')
    .action(
      clientAction(async (session, id: string, options: { format?: string; table?: boolean; download?: string; png?: string; slice?: string; scale?: number }) => {
        if (options.png) {
          const response = await session.client.jobs.picture(id, { slice: options.slice, scale: options.scale });
          await pipeline(Readable.fromWeb(response.body! as WebReadableStream), createWriteStream(options.png));
          const { size } = await stat(options.png);
          session.note(`Saved the picture (${size} bytes) to ${options.png}`);
          return;
        }
        if (options.slice !== undefined || options.scale !== undefined) throw new CommandFailure('--slice and --scale go with --png');
        if (options.download) {
          const name = basename(options.download).replace(/\.[^.]*$/, '');
          const raw = extname(options.download).toLowerCase() !== '.npy';
          const response = await session.client.jobs.downloadArtefact(id, name, { format: raw ? 'raw' : 'npy' }).catch((err: unknown) => {
            // A per-cell artefact the job did not ask for: say how to ask, in the CLI's terms.
            if (err instanceof CatalyticApiError && err.status === 404 && err.problem['option'] === 'artefacts') {
              throw new CommandFailure(`job ${id} did not ask for ${name}, so it was not stored; submit with --artefacts ${name} (e.g. catalytic submit components … --artefacts ${name})`);
            }
            throw err;
          });
          await pipeline(Readable.fromWeb(response.body! as WebReadableStream), createWriteStream(options.download));
          const { size } = await stat(options.download);
          session.note(`Saved ${name} (${size} bytes) to ${options.download}`);
          return;
        }
        const format = resultFormat(session, options.table ? 'table' : options.format);
        const job = await session.client.jobs.get(id);
        if (!isFinalStatus(job.status)) {
          throw new CommandFailure(`job ${id} is ${job.status} (${formatPercent(job.progress)}); wait for it with: catalytic jobs watch ${id}`);
        }
        if (job.status !== 'completed') {
          reportFinal(session, job, format);
          return job.status === 'cancelled' ? CLIENT_EXIT.cancelled : CLIENT_EXIT.failed;
        }
        let result: unknown = job.result;
        if (!result) {
          try {
            result = await session.client.jobs.result(id);
          } catch (err) {
            if (err instanceof CatalyticApiError && err.status === 409) throw new CommandFailure(`job ${id} has no result: ${err.message}`);
            throw err;
          }
        }
        if (format === 'json') session.printJson(result);
        else session.out(renderResult(job, result));
      }),
    );
}
