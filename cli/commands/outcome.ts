/** Waiting for a job in the terminal and reporting how it ended, shared by `submit --wait` and `jobs watch`. */
import type { Job } from '../../client/index.ts';
import { UsageError } from './cli-errors.ts';
import { CLIENT_EXIT } from './exit-codes.ts';
import { detachedMessage, exitCodeForJob, followJob } from './follow-job.ts';
import { chooseViewMode, createProgressView } from './progress-view.ts';
import { renderResult } from './result-view.ts';
import type { Session } from './session.ts';

export type ResultFormat = 'table' | 'json';

/** `--format`, else JSON with `--json` or when stdout is not a terminal, else a table. */
export function resultFormat(session: Session, format: string | undefined): ResultFormat {
  if (format !== undefined && format !== 'table' && format !== 'json') throw new UsageError('--format: expected table or json');
  if (format) return format;
  return session.json || !process.stdout.isTTY ? 'json' : 'table';
}

/** Options of {@link waitAndReport}. */
export interface WaitOptions {
  format?: string;
  /** Seconds to wait at most. */
  timeout?: number;
  /** Poll instead of using the events stream. */
  poll?: boolean;
  /** No progress output. */
  quiet?: boolean;
  /** With `--json`, print each update as a JSON line instead of only the final job. */
  ndjson?: boolean;
}

/**
 * Follows the job until it ends, then prints the outcome: with `--json` the final job (result
 * included); otherwise the result (table or JSON) when it completed, or why it did not on
 * stderr. Returns the exit code: 0 completed, 1 failed, 3 cancelled, 130 detached.
 */
export async function waitAndReport(session: Session, id: string, options: WaitOptions): Promise<number> {
  const format = resultFormat(session, options.format);
  const view = createProgressView(chooseViewMode({ json: session.json, quiet: options.quiet, ndjson: options.ndjson }));
  const outcome = await followJob(session, id, view, {
    transport: options.poll ? 'poll' : 'auto',
    timeoutMs: options.timeout ? options.timeout * 1000 : undefined,
  });
  if (outcome.kind === 'detached') {
    session.note(detachedMessage(id, outcome.job));
    return CLIENT_EXIT.detached;
  }
  reportFinal(session, outcome.job, format, options.ndjson);
  return exitCodeForJob(outcome.job);
}

/** Prints a final job's outcome (see {@link waitAndReport}). */
export function reportFinal(session: Session, job: Job, format: ResultFormat, printedAsLines = false): void {
  if (session.json) {
    if (!printedAsLines) session.printJson(job);
  } else if (job.status === 'completed') {
    if (format === 'json') session.printJson(job.result);
    else session.out(renderResult(job, job.result));
  }
  if (job.status === 'failed') {
    session.note(`catalytic: job ${job.id} failed${job.error ? `: ${job.error.code}: ${job.error.message}` : ''}`);
  } else if (job.status === 'cancelled') {
    session.note(`catalytic: job ${job.id} was cancelled`);
  }
}
