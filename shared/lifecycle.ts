/**
 * Runs a process's services: starts them in order, then on SIGTERM or SIGINT closes them in
 * reverse order within the grace period and exits 0. A signal during start-up stops the
 * remaining starts and closes what already started. A second signal (not the same one repeated
 * within 300 ms), or a grace period that runs out, exits 1 at once. Signal handlers are installed once per process.
 * With `stopWithParent`, the parent's exit is a stop request too.
 */
import type { Logger } from './logger.ts';
import type { Service } from './service.ts';

export interface LifecycleOptions {
  logger: Logger;
  /** How long closing may take before the process is cut off. */
  graceMs: number;
  /** Released last, after every service (connections, pools). */
  release?: () => Promise<void>;
  /** Called once everything has started (prints where things are). */
  onStarted?: () => void;
  /** Stop as on SIGTERM once the parent process has exited (`STOP_WITH_PARENT`). */
  stopWithParent?: boolean;
  /** For tests: no process.exit, resolve with the exit code instead. */
  exit?: (code: number) => void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** A repeat of the first signal within this window is the same stop request, not a second one. */
const DUPLICATE_SIGNAL_MS = 300;

const ignoreSignal = () => undefined;

/** How often the parent is looked for; an orphan is re-parented, so its parent id changes. */
const PARENT_CHECK_MS = 1000;

export class Lifecycle {
  private readonly started: Service[] = [];
  private stopRequested = false;
  private stopping: Promise<number> | undefined;
  private wakeStop: (() => void) | undefined;
  private firstSignal: { signal: NodeJS.Signals; at: number } | undefined;
  private readonly onSignal = (signal: NodeJS.Signals) => this.signal(signal);
  private parentWatch: NodeJS.Timeout | undefined;

  constructor(private readonly options: LifecycleOptions) {}

  /**
   * Starts `services` in order; resolves with the exit code once the process has stopped. A
   * failing start closes what started and rejects with the start's error.
   */
  async run(services: Service[]): Promise<number> {
    const { logger } = this.options;
    for (const s of SIGNALS) process.on(s, this.onSignal);
    if (this.options.stopWithParent) this.watchParent();
    try {
      for (const service of services) {
        if (this.stopRequested) break;
        await service.start();
        this.started.push(service);
        logger.debug({ service: service.name }, 'service started');
      }
      if (!this.stopRequested) {
        this.options.onStarted?.();
        await new Promise<void>((resolve) => {
          this.wakeStop = resolve;
          if (this.stopRequested) resolve();
        });
      }
    } catch (err) {
      // The caller reports the failure (one line for a missing dependency, a log otherwise).
      await this.stop();
      this.finish(1);
      throw err;
    }
    return this.finish(await this.stop());
  }

  private signal(signal: NodeJS.Signals): void {
    const { logger } = this.options;
    const now = Date.now();
    // Ctrl-C under `npm start` reaches us twice at once: from the terminal and forwarded by npm.
    if (signal === this.firstSignal?.signal && now - this.firstSignal.at < DUPLICATE_SIGNAL_MS) return;
    if (this.stopRequested) {
      logger.warn({ signal }, 'second signal: exiting at once');
      this.exit(1);
      return;
    }
    this.firstSignal = { signal, at: now };
    logger.info({ signal }, 'shutting down');
    this.requestStop();
  }

  private watchParent(): void {
    const parent = process.ppid;
    this.parentWatch = setInterval(() => {
      if (process.ppid === parent || this.stopRequested) return;
      clearInterval(this.parentWatch);
      this.options.logger.warn({ parent }, 'parent process exited: shutting down');
      this.requestStop();
    }, PARENT_CHECK_MS);
    this.parentWatch.unref();
  }

  /** Asks the process to stop, as a signal would. */
  requestStop(): void {
    this.stopRequested = true;
    this.wakeStop?.();
  }

  /** Closes started services in reverse order, then releases shared resources. */
  private stop(): Promise<number> {
    this.stopping ??= this.closeAll();
    return this.stopping;
  }

  private async closeAll(): Promise<number> {
    const { logger, graceMs } = this.options;
    const deadline = setTimeout(() => {
      logger.error({ graceMs }, 'grace period over: exiting with work unfinished');
      this.exit(1);
    }, graceMs);
    deadline.unref();
    for (const service of [...this.started].reverse()) {
      try {
        await service.close();
        logger.debug({ service: service.name }, 'service closed');
      } catch (err) {
        logger.error({ err, service: service.name }, 'service failed to close');
      }
    }
    try {
      await this.options.release?.();
    } catch (err) {
      logger.error({ err }, 'releasing resources failed');
    }
    clearTimeout(deadline);
    return 0;
  }

  private finish(code: number): number {
    clearInterval(this.parentWatch);
    for (const s of SIGNALS) process.off(s, this.onSignal);
    // After a signalled stop the process is about to exit: a late duplicate of that signal must
    // not find the default disposition and kill it (exit 130 instead of 0).
    if (this.firstSignal && !this.options.exit) for (const s of SIGNALS) process.on(s, ignoreSignal);
    return code;
  }

  private exit(code: number): void {
    if (this.options.exit) this.options.exit(code);
    else process.exit(code);
  }
}
