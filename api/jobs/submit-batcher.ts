/**
 * Group commit of concurrent items of one key (a tenant), at most `maxWrites` writes at a time per
 * key and no timer; each batch goes through `write` (the transaction) then `publish` (queueing, in
 * the order the writes finish, overlapping the next write). An item is answered once its write has
 * committed: its `publish` follows in the background (`published` waits for it), so a submission
 * does not wait a second round trip for its 202. See docs/architecture.md › The job pipeline.
 */

/** What a write did for one item. */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface SubmitBatcherStages<I, R> {
  /**
   * Writes one batch of one key; returns one outcome per item, in order. `slot` (0 to maxWrites - 1)
   * is the write's place among the key's writes in flight: no two at once hold the same one.
   */
  write(key: string, items: readonly I[], slot: number): Promise<Array<ItemOutcome<R>>>;
  /**
   * After the write, in the background: makes the written items' effects visible (queues them).
   * Its callers have been answered already; a failure is its own to report (never rejects).
   */
  publish(key: string, values: readonly R[]): Promise<void>;
}

interface Waiter<I, R> {
  item: I;
  resolve(value: R): void;
  reject(err: unknown): void;
}

/** The items of one key waiting for a write, and what is running for it. */
interface Lane<I, R> {
  pending: Array<Waiter<I, R>>;
  /** Writes running (at most `maxWrites`): the slots they hold. */
  writing: Set<number>;
  /** Batches written but not yet through `publish`. */
  publishing: number;
  /** The last `publish` started, so that the next one follows it. */
  tail: Promise<void>;
}

export class SubmitBatcher<I, R> {
  private readonly lanes = new Map<string, Lane<I, R>>();

  constructor(
    private readonly stages: SubmitBatcherStages<I, R>,
    readonly maxBatch: number,
    /**
     * Writes of one key in flight at once. With 1, what arrives during a write waits for it to
     * end; with more, it is written at once while a slot is free (the stages must allow
     * concurrent writes of one key: the quotas are decided in the database, not by this order).
     */
    readonly maxWrites = 1,
    /**
     * Batches of one key answered before their `publish` ended, at most. Past it, a batch is
     * answered only once it is queued, as it was before answers went first: while the queue is slow
     * or away, callers wait rather than the process holding an ever longer chain of written rows.
     */
    readonly maxUnpublished = 4,
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`maxBatch must be a whole number ≥ 1, not ${maxBatch}`);
    if (!Number.isInteger(maxWrites) || maxWrites < 1) throw new Error(`maxWrites must be a whole number ≥ 1, not ${maxWrites}`);
    if (!Number.isInteger(maxUnpublished) || maxUnpublished < 0) throw new Error(`maxUnpublished must be a whole number ≥ 0, not ${maxUnpublished}`);
  }

  /** Keys with items waiting or being written (for tests and diagnostics). */
  get activeKeys(): number {
    return this.lanes.size;
  }

  /**
   * Resolves once every batch written so far — of the keys `which` accepts, or of every key — has
   * been through `publish`: e.g. before a cancel removes a job from its queue, or a shutdown
   * closes the queue's connection.
   */
  async published(which: (key: string) => boolean = () => true): Promise<void> {
    await Promise.all([...this.lanes].filter(([key]) => which(key)).map(([, lane]) => lane.tail));
  }

  submit(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let lane = this.lanes.get(key);
      if (!lane) {
        lane = { pending: [], writing: new Set(), publishing: 0, tail: Promise.resolve() };
        this.lanes.set(key, lane);
      }
      lane.pending.push({ item, resolve, reject });
      // A free slot starts a writer at the end of this turn, which takes whatever gathered by then;
      // one per arrival at most, so the turn's arrivals are one batch, not one write each.
      if (lane.writing.size < this.maxWrites && lane.pending.length === 1) {
        let slot = 0;
        while (lane.writing.has(slot)) slot++;
        lane.writing.add(slot);
        const started = lane;
        setImmediate(() => void this.drain(key, started, slot));
      }
    });
  }

  private async drain(key: string, lane: Lane<I, R>, slot: number): Promise<void> {
    try {
      while (lane.pending.length > 0) {
        await this.writeBatch(key, lane, lane.pending.splice(0, this.maxBatch), slot);
      }
    } finally {
      lane.writing.delete(slot);
      this.forgetIfIdle(key, lane);
    }
  }

  private async writeBatch(key: string, lane: Lane<I, R>, batch: Array<Waiter<I, R>>, slot: number): Promise<void> {
    let outcomes: Array<ItemOutcome<R>>;
    try {
      outcomes = await this.stages.write(
        key,
        batch.map((w) => w.item),
        slot,
      );
      if (outcomes.length !== batch.length) throw new Error(`a batch write returned ${outcomes.length} outcomes for ${batch.length} items`);
    } catch (err) {
      for (const waiter of batch) waiter.reject(err);
      return;
    }
    const written: Array<{ waiter: Waiter<I, R>; value: R }> = [];
    outcomes.forEach((outcome, i) => {
      const waiter = batch[i] as Waiter<I, R>;
      if (outcome.ok) written.push({ waiter, value: outcome.value });
      else waiter.reject(outcome.error);
    });
    if (written.length === 0) return;
    // The rows are committed: answer now, unless maxUnpublished batches already wait for their
    // queueing. Queueing follows, one batch after another in the order the writes ended; a row
    // that never gets queued (the process dies first) is reconcile's.
    const answerFirst = lane.publishing < this.maxUnpublished;
    const answer = () => {
      for (const { waiter, value } of written) waiter.resolve(value);
    };
    if (answerFirst) answer();
    lane.publishing++;
    lane.tail = lane.tail
      .then(() => this.stages.publish(key, written.map((w) => w.value)))
      .catch(() => undefined)
      .then(() => {
        if (!answerFirst) answer();
        lane.publishing--;
        this.forgetIfIdle(key, lane);
      });
  }

  private forgetIfIdle(key: string, lane: Lane<I, R>): void {
    if (lane.writing.size === 0 && lane.publishing === 0 && lane.pending.length === 0 && this.lanes.get(key) === lane) this.lanes.delete(key);
  }
}
