/**
 * How a job being watched is shown: a live bar (cli-progress) with state, percent, elapsed time
 * and ETA on a terminal; one plain line per change otherwise; one JSON line per change with
 * `--json` (for `jobs watch`). Drawing goes to stderr, so stdout carries only the result.
 */
import cliProgress from 'cli-progress';
import type { Job } from '../../client/index.ts';
import { formatDuration, formatPercent } from './format.ts';

export type ViewMode = 'bar' | 'lines' | 'ndjson' | 'quiet';

export interface ProgressView {
  /** Shows the job as it is now. */
  update(job: Job): void;
  /** Stops drawing (before a prompt); `resume` starts again. */
  pause(): void;
  resume(): void;
  /** Draws the final state and stops for good. */
  finish(job: Job): void;
  /** Prints a line without garbling the bar. */
  note(text: string): void;
}

/** The bar when stdout and stderr are terminals and JSON was not asked for; lines otherwise. */
export function chooseViewMode(options: { json: boolean; quiet?: boolean; ndjson?: boolean }): ViewMode {
  if (options.quiet) return 'quiet';
  if (options.json) return options.ndjson ? 'ndjson' : 'lines';
  return process.stdout.isTTY && process.stderr.isTTY ? 'bar' : 'lines';
}

/** Milliseconds since the job was created (to its end, once final). */
export function elapsedMs(job: Job, now: number = Date.now()): number {
  const start = Date.parse(job.created_at);
  const end = job.finished_at ? Date.parse(job.finished_at) : now;
  return Number.isNaN(start) ? 0 : Math.max(0, end - start);
}

/**
 * Estimated time left: the running attempt's pace so far, extrapolated. Undefined while queued or
 * before any progress.
 */
export function etaMs(job: Job, now: number = Date.now()): number | undefined {
  if (job.status !== 'running' || !job.started_at || !(job.progress > 0)) return undefined;
  if (job.progress >= 1) return 0;
  const ran = Math.max(0, now - Date.parse(job.started_at));
  return (ran * (1 - job.progress)) / job.progress;
}

function etaText(job: Job, now: number): string {
  if (job.status === 'completed') return '0s';
  if (job.status === 'failed' || job.status === 'cancelled') return '-';
  if (job.status === 'queued') return 'waiting';
  const eta = etaMs(job, now);
  return eta === undefined ? '...' : formatDuration(eta);
}

/** A one-line description of the job's state, for plain output. */
export function statusLine(job: Job, now: number = Date.now()): string {
  // Batches and sweeps stand in as jobs whose id is already a name (`batch …`, `sweep of …`).
  const parts = [job.id.includes(' ') ? job.id : `job ${job.id}`, job.status, formatPercent(job.progress), `elapsed ${formatDuration(elapsedMs(job, now))}`];
  if (job.status === 'running') parts.push(`ETA ${etaText(job, now)}`);
  if (job.error) parts.push(`${job.error.code}: ${job.error.message}`);
  return parts.join('  ');
}

class BarView implements ProgressView {
  private bar: cliProgress.SingleBar | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private job: Job | undefined;
  private paused = false;
  private finished = false;

  update(job: Job): void {
    this.job = job;
    if (this.paused || this.finished) return;
    if (!this.bar) this.start();
    this.bar?.update(this.value(job), this.payload(job));
  }

  pause(): void {
    this.paused = true;
    this.stopBar();
  }

  resume(): void {
    this.paused = false;
    if (this.job && !this.finished) this.update(this.job);
  }

  finish(job: Job): void {
    this.job = job;
    this.paused = false;
    if (!this.bar) this.start();
    // A completed job's bar shows 100% whatever the last progress report said.
    this.bar?.update(job.status === 'completed' ? 100 : this.value(job), this.payload(job));
    this.finished = true;
    this.stopBar();
  }

  note(text: string): void {
    const running = Boolean(this.bar);
    this.stopBar();
    process.stderr.write(`${text}\n`);
    if (running && this.job && !this.paused && !this.finished) this.update(this.job);
  }

  private start(): void {
    this.bar = new cliProgress.SingleBar(
      {
        format: ' {state} |{bar}| {percentage}% | elapsed {elapsed} | ETA {eta_text}',
        stream: process.stderr,
        barsize: 30,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        gracefulExit: false,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    const job = this.job;
    this.bar.start(100, job ? this.value(job) : 0, job ? this.payload(job) : { state: 'queued', elapsed: '0ms', eta_text: '...' });
    // Elapsed time and ETA move between events too.
    this.ticker = setInterval(() => {
      if (this.job) this.bar?.update(this.value(this.job), this.payload(this.job));
    }, 250);
    this.ticker.unref();
  }

  private stopBar(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.bar?.stop();
    this.bar = undefined;
  }

  private value(job: Job): number {
    return Math.floor(Math.min(1, Math.max(0, job.progress)) * 100);
  }

  private payload(job: Job): Record<string, string> {
    const now = Date.now();
    return { state: job.status.padEnd(9), elapsed: formatDuration(elapsedMs(job, now)), eta_text: etaText(job, now) };
  }
}

class LineView implements ProgressView {
  private lastStatus: string | undefined;
  private lastDecile = -1;

  update(job: Job): void {
    const decile = Math.floor(job.progress * 10);
    if (job.status === this.lastStatus && decile === this.lastDecile) return;
    this.lastStatus = job.status;
    this.lastDecile = decile;
    process.stderr.write(`${statusLine(job)}\n`);
  }

  pause(): void {}
  resume(): void {}

  finish(job: Job): void {
    this.lastDecile = -1;
    this.lastStatus = undefined;
    this.update(job);
  }

  note(text: string): void {
    process.stderr.write(`${text}\n`);
  }
}

class JsonLinesView implements ProgressView {
  update(job: Job): void {
    process.stdout.write(`${JSON.stringify(job)}\n`);
  }
  pause(): void {}
  resume(): void {}
  finish(job: Job): void {
    this.update(job);
  }
  note(text: string): void {
    process.stderr.write(`${text}\n`);
  }
}

class QuietView implements ProgressView {
  update(): void {}
  pause(): void {}
  resume(): void {}
  finish(): void {}
  note(text: string): void {
    process.stderr.write(`${text}\n`);
  }
}

export function createProgressView(mode: ViewMode): ProgressView {
  switch (mode) {
    case 'bar':
      return new BarView();
    case 'lines':
      return new LineView();
    case 'ndjson':
      return new JsonLinesView();
    case 'quiet':
      return new QuietView();
  }
}
