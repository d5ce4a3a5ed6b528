/**
 * A long-running part of a role (HTTP server, job fetcher, scheduler loop). `start` resolves once
 * it is serving; `close` stops taking work, finishes or hands back what it holds and releases its
 * connections. `close` may be called more than once and returns the same promise.
 */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Memoises a close function so a second call waits for the first instead of running again. */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= fn());
}
