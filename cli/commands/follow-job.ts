/**
 * Following a job in the terminal until it ends, shown by a {@link ProgressView}. Ctrl-C on a
 * terminal asks whether to cancel the job: yes cancels it and keeps watching until it is
 * cancelled; no (or a second Ctrl-C) stops watching and leaves the job running. Without a
 * terminal, Ctrl-C stops watching at once.
 */
import { isFinalStatus, type Job, type WatchOptions } from '../../client/index.ts';
import { CLIENT_EXIT } from './exit-codes.ts';
import { canPrompt, confirm, PromptInterrupted } from './prompt.ts';
import type { ProgressView } from './progress-view.ts';
import type { Session } from './session.ts';

/** How following ended. */
export type FollowOutcome = { kind: 'final'; job: Job } | { kind: 'detached'; job: Job | undefined };

class Detached extends Error {
  override name = 'Detached';
}

/** Exit code for a final job: 0 completed, 1 failed, 3 cancelled. */
export function exitCodeForJob(job: Job): number {
  if (job.status === 'completed') return CLIENT_EXIT.ok;
  if (job.status === 'cancelled') return CLIENT_EXIT.cancelled;
  return CLIENT_EXIT.failed;
}

export async function followJob(
  session: Session,
  id: string,
  view: ProgressView,
  options: Pick<WatchOptions, 'transport' | 'pollIntervalMs'> & { timeoutMs?: number } = {},
): Promise<FollowOutcome> {
  const controller = new AbortController();
  const signals = [controller.signal, ...(options.timeoutMs ? [AbortSignal.timeout(options.timeoutMs)] : [])];
  const signal = AbortSignal.any(signals);
  let latest: Job | undefined;
  let prompting: AbortController | undefined;
  let cancelRequested = false;

  const onSigint = () => {
    if (prompting) return; // the prompt's own Ctrl-C handling decides
    if (!canPrompt() || cancelRequested) {
      controller.abort(new Detached());
      return;
    }
    prompting = new AbortController();
    const question = prompting;
    view.pause();
    confirm(`\nCancel job ${id}? [y/N] `, AbortSignal.any([question.signal, signal]))
      .then(async (yes) => {
        if (!yes) {
          controller.abort(new Detached());
          return;
        }
        cancelRequested = true;
        await session.client.jobs.cancel(id);
        view.note(`Cancelling job ${id}...`);
      })
      .catch((err: unknown) => {
        // A second Ctrl-C at the question detaches; the job ending meanwhile just closes it.
        if (err instanceof PromptInterrupted && !question.signal.aborted && !signal.aborted) {
          controller.abort(new Detached());
        } else if (!(err instanceof PromptInterrupted)) {
          controller.abort(err);
        }
      })
      .finally(() => {
        prompting = undefined;
        if (!signal.aborted) view.resume();
      });
  };

  process.on('SIGINT', onSigint);
  try {
    for await (const update of session.client.jobs.watch(id, { ...options, signal })) {
      latest = update.job;
      if (isFinalStatus(update.job.status)) {
        prompting?.abort();
        view.finish(update.job);
        return { kind: 'final', job: update.job };
      }
      if (!prompting) view.update(update.job);
    }
    throw new Error(`watching job ${id} ended before it did`);
  } catch (err) {
    if (controller.signal.aborted && controller.signal.reason instanceof Detached) {
      view.pause();
      return { kind: 'detached', job: latest };
    }
    if (signal.aborted && !controller.signal.aborted) {
      view.pause();
      throw new Error(`gave up waiting for job ${id} after ${Math.round((options.timeoutMs ?? 0) / 1000)}s; it is still ${latest?.status ?? 'unknown'}`);
    }
    view.pause();
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** The line printed when leaving a job running. */
export function detachedMessage(id: string, job: Job | undefined): string {
  return `Stopped watching job ${id}${job ? `, which is still ${job.status}` : ''}. Follow it again with: catalytic jobs watch ${id}`;
}
