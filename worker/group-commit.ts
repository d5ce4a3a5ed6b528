/**
 * Group commit for the worker's writes: callers hand in one item each and get its own answer back,
 * while items are written to PostgreSQL in batches, with no timer, a failed batch retried item by
 * item, and never two items of one key in a batch.
 * See docs/architecture.md › The job pipeline.
 */

/** Writes a batch; answers in the same order as `items`. */
export type BatchWriter<I, O> = (items: readonly I[]) => Promise<readonly O[]>;

export interface GroupCommitOptions<I, O> {
  write: BatchWriter<I, O>;
  /** Most items in one write. */
  maxBatch: number;
  /** Items with the same key never share a batch. */
  key: (item: I) => string;
  /** Called with the size of every batch written (for metrics). */
  onBatch?: (size: number) => void;
  /**
   * An idle group commit's first write waits for the end of the event-loop turn (setImmediate)
   * rather than going out at once, so that the items the same turn's callbacks and promise chains
   * hand in share it — jobs fetched or ended together reach it one promise chain after another.
   * Not a timer: the write still leaves in the turn its first item came in.
   * @defaultValue false (a lone item is written at once)
   */
  gatherTurn?: boolean;
}

interface Waiting<I, O> {
  item: I;
  resolve: (answer: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Items handed in together by {@link GroupCommit.submitMany}: one promise for all of them, settled
 * once every item is written (a caller with a hundred items awaits one promise, not a hundred).
 */
class ManyWaiting<O> {
  readonly answers: O[];
  private left: number;
  private failure: { err: unknown } | undefined;

  constructor(
    count: number,
    private readonly done: (answers: O[]) => void,
    private readonly fail: (err: unknown) => void,
  ) {
    this.answers = new Array<O>(count);
    this.left = count;
  }

  settle(at: number, answer: O): void {
    this.answers[at] = answer;
    this.settled();
  }

  failed(err: unknown): void {
    this.failure ??= { err };
    this.settled();
  }

  private settled(): void {
    if (--this.left > 0) return;
    if (this.failure) this.fail(this.failure.err);
    else this.done(this.answers);
  }
}

/** One of a {@link ManyWaiting}'s items: its place among them. A class: no closures per item. */
class WaitingOfMany<I, O> implements Waiting<I, O> {
  constructor(
    readonly item: I,
    private readonly many: ManyWaiting<O>,
    private readonly at: number,
  ) {}

  resolve(answer: O): void {
    this.many.settle(this.at, answer);
  }

  reject(err: unknown): void {
    this.many.failed(err);
  }
}

export class GroupCommit<I, O> {
  private queue: Array<Waiting<I, O>> = [];
  private inFlight = false;

  constructor(private readonly options: GroupCommitOptions<I, O>) {
    if (!Number.isSafeInteger(options.maxBatch) || options.maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
  }

  /** Items handed in and not yet part of a write. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Writes `item` with whatever else is waiting; resolves with its own answer once written. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.kick();
    });
  }

  /**
   * Writes `items` with whatever else is waiting (in batches of at most `maxBatch`, as if each
   * were submitted in turn); resolves with their answers in order once all are written, or
   * rejects with the first error once all have settled.
   */
  submitMany(items: readonly I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<O[]>((resolve, reject) => {
      const many = new ManyWaiting<O>(items.length, resolve, reject);
      for (let at = 0; at < items.length; at++) this.queue.push(new WaitingOfMany(items[at] as I, many, at));
      this.kick();
    });
  }

  /** Starts writing what waits, unless a write is under way or about to be. */
  private kick(): void {
    if (this.inFlight) return;
    this.inFlight = true;
    if (this.options.gatherTurn === true) setImmediate(() => void this.drain());
    else void this.drain();
  }

  /** Writes batches until nothing waits; only one runs at a time. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.writeBatch(this.takeBatch());
    } finally {
      this.inFlight = false;
    }
  }

  /** The first `maxBatch` items of distinct keys, in order; the others keep their places. */
  private takeBatch(): Array<Waiting<I, O>> {
    const { maxBatch, key } = this.options;
    const queue = this.queue;
    const batch: Array<Waiting<I, O>> = [];
    const keys = new Set<string>();
    let skipped: Array<Waiting<I, O>> | undefined;
    // Looks only as far as the batch fills: items left behind a long queue are not walked again per batch.
    let at = 0;
    for (; at < queue.length && batch.length < maxBatch; at++) {
      const waiting = queue[at]!;
      const k = key(waiting.item);
      if (keys.has(k)) (skipped ??= []).push(waiting);
      else {
        keys.add(k);
        batch.push(waiting);
      }
    }
    const rest = queue.slice(at);
    this.queue = skipped ? skipped.concat(rest) : rest;
    return batch;
  }

  private async writeBatch(batch: Array<Waiting<I, O>>): Promise<void> {
    this.options.onBatch?.(batch.length);
    let answers: readonly O[];
    try {
      answers = await this.options.write(batch.map((w) => w.item));
      if (answers.length !== batch.length) throw new Error(`a batch write answered ${answers.length} of ${batch.length} items`);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]?.reject(err);
        return;
      }
      // A failed batch committed nothing (or, when only the commit's answer was lost, all of it,
      // and the conditional writes then find their rows moved on): each item tries again alone.
      for (const waiting of batch) await this.writeBatch([waiting]);
      return;
    }
    batch.forEach((waiting, i) => waiting.resolve(answers[i] as O));
  }
}
