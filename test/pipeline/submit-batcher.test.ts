/**
 * The group-commit batcher of the submit path on its own, with stages the test controls: how
 * batches form, what a failed write or a failed item does, and when callers are answered.
 */
import { describe, expect, it } from 'vitest';
import { type ItemOutcome, SubmitBatcher } from '../../api/jobs/submit-batcher.ts';

/** A promise the test resolves or rejects by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending callbacks (microtasks and setImmediate) run. */
const settle = () => new Promise((r) => setImmediate(r));

/** Stages that record each call and wait for the test to finish them. */
function controlledStages() {
  const writes: Array<{ key: string; items: number[]; slot: number; done: ReturnType<typeof deferred<Array<ItemOutcome<string>>>> }> = [];
  const publishes: Array<{ key: string; values: string[] }> = [];
  let publishFails = false;
  return {
    writes,
    publishes,
    failPublish() {
      publishFails = true;
    },
    stages: {
      write(key: string, items: readonly number[], slot: number) {
        const done = deferred<Array<ItemOutcome<string>>>();
        writes.push({ key, items: [...items], slot, done });
        return done.promise;
      },
      async publish(key: string, values: readonly string[]) {
        publishes.push({ key, values: [...values] });
        if (publishFails) throw new Error('publish failed');
      },
    },
  };
}

const okAll = (items: number[]): Array<ItemOutcome<string>> => items.map((i) => ({ ok: true, value: `row-${i}` }));

describe('the submit batcher', () => {
  it('writes the first item at once, and gathers what arrives meanwhile into batches of at most maxBatch', async () => {
    const c = controlledStages();
    const batcher = new SubmitBatcher(c.stages, 3);
    const first = batcher.submit('t1', 0);
    await settle();
    expect(c.writes.map((w) => w.items)).toEqual([[0]]);
    const more = [1, 2, 3, 4, 5].map((i) => batcher.submit('t1', i));
    await settle();
    // One write at a time per key: the others wait for the running one.
    expect(c.writes).toHaveLength(1);
    c.writes[0]?.done.resolve(okAll([0]));
    expect(await first).toBe('row-0');
    await settle();
    expect(c.writes.map((w) => w.items)).toEqual([[0], [1, 2, 3]]);
    c.writes[1]?.done.resolve(okAll([1, 2, 3]));
    await settle();
    expect(c.writes.map((w) => w.items)).toEqual([[0], [1, 2, 3], [4, 5]]);
    c.writes[2]?.done.resolve(okAll([4, 5]));
    expect(await Promise.all(more)).toEqual(['row-1', 'row-2', 'row-3', 'row-4', 'row-5']);
    // Published once per batch, in batch order.
    await batcher.published();
    expect(c.publishes.map((p) => p.values)).toEqual([['row-0'], ['row-1', 'row-2', 'row-3'], ['row-4', 'row-5']]);
    expect(batcher.activeKeys).toBe(0);
  });

  it('writes different keys independently', async () => {
    const c = controlledStages();
    const batcher = new SubmitBatcher(c.stages, 10);
    const a = batcher.submit('a', 1);
    const b = batcher.submit('b', 2);
    await settle();
    expect(c.writes.map((w) => [w.key, w.items])).toEqual([
      ['a', [1]],
      ['b', [2]],
    ]);
    c.writes[1]?.done.resolve(okAll([2]));
    expect(await b).toBe('row-2');
    c.writes[0]?.done.resolve(okAll([1]));
    expect(await a).toBe('row-1');
  });

  it('fails every item of a batch whose write throws with that error, and goes on with the next batch', async () => {
    const c = controlledStages();
    const batcher = new SubmitBatcher(c.stages, 10);
    const first = batcher.submit('t', 0);
    await settle();
    const failing = [1, 2, 3].map((i) => batcher.submit('t', i).catch((err: unknown) => err));
    c.writes[0]?.done.resolve(okAll([0]));
    await first;
    await settle();
    const later = batcher.submit('t', 4);
    const broken = new Error('connection lost');
    c.writes[1]?.done.reject(broken);
    expect(await Promise.all(failing)).toEqual([broken, broken, broken]);
    await settle();
    expect(c.writes.map((w) => w.items)).toEqual([[0], [1, 2, 3], [4]]);
    c.writes[2]?.done.resolve(okAll([4]));
    expect(await later).toBe('row-4');
    await batcher.published();
    expect(c.publishes.map((p) => p.values)).toEqual([['row-0'], ['row-4']]);
  });

  it('refuses a failed item alone, and answers the written ones, publishing them even when publishing fails', async () => {
    const c = controlledStages();
    c.failPublish();
    const batcher = new SubmitBatcher(c.stages, 10);
    const results = [0, 1, 2].map((i) => batcher.submit('t', i).then((v) => ({ v }), (err: unknown) => ({ err })));
    await settle();
    expect(c.writes.map((w) => w.items)).toEqual([[0, 1, 2]]);
    const invalid = new Error('invalid job');
    c.writes[0]?.done.resolve([{ ok: true, value: 'row-0' }, { ok: false, error: invalid }, { ok: true, value: 'row-2' }]);
    expect(await Promise.all(results)).toEqual([{ v: 'row-0' }, { err: invalid }, { v: 'row-2' }]);
    await batcher.published();
    expect(c.publishes.map((p) => p.values)).toEqual([['row-0', 'row-2']]);
  });

  it('answers a written item before its publish ends, publishes batches one at a time in write order, and published() waits for them', async () => {
    const publishes: Array<{ key: string; values: string[]; done: ReturnType<typeof deferred<void>> }> = [];
    const writes: Array<ReturnType<typeof deferred<Array<ItemOutcome<string>>>>> = [];
    const batcher = new SubmitBatcher<number, string>(
      {
        write() {
          const done = deferred<Array<ItemOutcome<string>>>();
          writes.push(done);
          return done.promise;
        },
        publish(key, values) {
          const done = deferred<void>();
          publishes.push({ key, values: [...values], done });
          return done.promise;
        },
      },
      10,
    );
    const first = batcher.submit('t', 0);
    await settle();
    const second = batcher.submit('t', 1);
    writes[0]?.resolve(okAll([0]));
    // Answered with its publish still running.
    expect(await first).toBe('row-0');
    await settle();
    expect(publishes.map((p) => p.values)).toEqual([['row-0']]);
    writes[1]?.resolve(okAll([1]));
    expect(await second).toBe('row-1');
    await settle();
    // The second batch's publish waits for the first's.
    expect(publishes.map((p) => p.values)).toEqual([['row-0']]);
    let allPublished = false;
    let otherKeys = false;
    void batcher.published().then(() => (allPublished = true));
    void batcher.published((key) => key !== 't').then(() => (otherKeys = true));
    await settle();
    expect(otherKeys).toBe(true);
    expect(allPublished).toBe(false);
    expect(batcher.activeKeys).toBe(1);
    publishes[0]?.done.resolve();
    await settle();
    expect(publishes.map((p) => p.values)).toEqual([['row-0'], ['row-1']]);
    expect(allPublished).toBe(false);
    publishes[1]?.done.resolve();
    await settle();
    expect(allPublished).toBe(true);
    expect(batcher.activeKeys).toBe(0);
  });

  it('answers at most maxUnpublished batches of a key before their queueing; past that, an answer waits for its own', async () => {
    const publishes: Array<ReturnType<typeof deferred<void>>> = [];
    const batcher = new SubmitBatcher<number, string>(
      {
        write: async (_key, items) => okAll([...items]),
        publish() {
          const done = deferred<void>();
          publishes.push(done);
          return done.promise;
        },
      },
      1,
      1,
      2,
    );
    const answered: number[] = [];
    const answers = [0, 1, 2, 3].map((i) => batcher.submit('t', i).then(() => answered.push(i)));
    await settle();
    // Four batches of one written; the queue holds the first publish, so only two are answered.
    expect(answered).toEqual([0, 1]);
    for (let i = 0; i < 4; i++) {
      publishes[i]?.resolve();
      await settle();
    }
    await Promise.all(answers);
    expect(answered).toEqual([0, 1, 2, 3]);
    await batcher.published();
    expect(batcher.activeKeys).toBe(0);
  });

  it('refuses a batch whose write answers for the wrong number of items', async () => {
    const c = controlledStages();
    const batcher = new SubmitBatcher(c.stages, 10);
    const results = [0, 1].map((i) => batcher.submit('t', i).catch((err: unknown) => (err as Error).message));
    await settle();
    c.writes[0]?.done.resolve(okAll([0]));
    expect(await Promise.all(results)).toEqual([expect.stringMatching(/1 outcomes for 2 items/), expect.stringMatching(/1 outcomes for 2 items/)]);
  });

  it('with two writes per key, writes what arrives during one at once, and gathers the rest for whichever ends first', async () => {
    const c = controlledStages();
    const batcher = new SubmitBatcher(c.stages, 3, 2);
    const first = batcher.submit('t', 0);
    await settle();
    // Arrivals of one turn while a slot is free: one second write, not one write each.
    const second = [1, 2].map((i) => batcher.submit('t', i));
    await settle();
    expect(c.writes.map((w) => w.items)).toEqual([[0], [1, 2]]);
    // Both slots busy: these wait, and go in batches of at most maxBatch.
    const waiting = [3, 4, 5, 6].map((i) => batcher.submit('t', i));
    await settle();
    expect(c.writes).toHaveLength(2);
    c.writes[1]?.done.resolve(okAll([1, 2]));
    expect(await Promise.all(second)).toEqual(['row-1', 'row-2']);
    await settle();
    expect(c.writes.map((w) => w.items)).toEqual([[0], [1, 2], [3, 4, 5]]);
    c.writes[0]?.done.resolve(okAll([0]));
    expect(await first).toBe('row-0');
    await settle();
    expect(c.writes.map((w) => w.items)).toEqual([[0], [1, 2], [3, 4, 5], [6]]);
    c.writes[3]?.done.resolve(okAll([6]));
    c.writes[2]?.done.resolve(okAll([3, 4, 5]));
    expect(await Promise.all(waiting)).toEqual(['row-3', 'row-4', 'row-5', 'row-6']);
    // Published once per batch, in the order the writes ended.
    await batcher.published();
    expect(c.publishes.map((p) => p.values)).toEqual([['row-1', 'row-2'], ['row-0'], ['row-6'], ['row-3', 'row-4', 'row-5']]);
    // Writes in flight at once hold different slots (their usage lanes); a slot's next batch keeps it.
    expect(c.writes.map((w) => w.slot)).toEqual([0, 1, 1, 0]);
    await settle();
    expect(batcher.activeKeys).toBe(0);
  });

  it('gives a freed slot to the next write: never two writes of a key in one slot at once', async () => {
    const c = controlledStages();
    const batcher = new SubmitBatcher(c.stages, 1, 3);
    const answers: Array<Promise<string>> = [];
    for (const i of [0, 1, 2]) {
      answers.push(batcher.submit('t', i));
      await settle();
    }
    expect(c.writes.map((w) => w.slot)).toEqual([0, 1, 2]);
    // The middle write ends with nothing waiting: its slot is free, and the next write takes it.
    c.writes[1]?.done.resolve(okAll([1]));
    expect(await answers[1]).toBe('row-1');
    await settle();
    answers.push(batcher.submit('t', 3));
    await settle();
    expect(c.writes.map((w) => w.slot)).toEqual([0, 1, 2, 1]);
    for (const [i, write] of c.writes.entries()) if (i !== 1) write.done.resolve(okAll(write.items));
    expect(await Promise.all(answers)).toEqual(['row-0', 'row-1', 'row-2', 'row-3']);
  });

  it('refuses a number of writes per key that is not a whole number ≥ 1', () => {
    const c = controlledStages();
    expect(() => new SubmitBatcher(c.stages, 3, 0)).toThrow(/maxWrites/);
    expect(() => new SubmitBatcher(c.stages, 3, 1.5)).toThrow(/maxWrites/);
  });
});
