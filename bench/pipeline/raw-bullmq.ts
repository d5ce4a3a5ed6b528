/**
 * The ceiling the pipeline is compared with: BullMQ itself moving no-op jobs through one queue
 * on the same Redis, with a Worker of concurrency 50 and with 50 manual-fetch loops (the way the
 * pipeline's worker fetches), and with producers adding while a Worker consumes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

export interface RawResult {
  jobs: number;
  seconds: number;
  jobs_per_s: number;
}

/** A fresh queue on its own connection, and what a measurement adds to it. */
interface RawQueue {
  name: string;
  prefix: string;
  connection: Redis;
  queue: Queue;
}

async function fill(queue: Queue, jobs: number): Promise<void> {
  for (let added = 0; added < jobs; added += 1000) {
    const batch = Math.min(1000, jobs - added);
    await queue.addBulk(Array.from({ length: batch }, (_, i) => ({ name: 'noop', data: { i: added + i }, opts: { removeOnComplete: true } })));
  }
}

function rate(jobs: number, ms: number): RawResult {
  return { jobs, seconds: Math.round(ms) / 1000, jobs_per_s: Math.round((jobs / ms) * 1000) };
}

/** Runs `measure` on a queue of its own, then closes `worker` and removes the queue. */
async function onFreshQueue(
  redisUrl: string,
  prefix: string,
  measure: (raw: RawQueue) => Promise<{ worker: Worker; result: RawResult }>,
): Promise<RawResult> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const name = `raw-${randomBytes(3).toString('hex')}`;
  const queue = new Queue(name, { connection, prefix });
  await queue.waitUntilReady();
  const { worker, result } = await measure({ name, prefix, connection, queue });
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return result;
}

/** A Worker with a no-op processor and `concurrency`, not yet running; `all` settles after `jobs` completions. */
function noopWorker(raw: RawQueue, jobs: number, concurrency: number): { worker: Worker; all: Promise<void> } {
  let done = 0;
  let finished: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (finished = resolve));
  const worker = new Worker(raw.name, async () => null, { connection: raw.connection, prefix: raw.prefix, concurrency, autorun: false });
  worker.on('completed', () => {
    if (++done === jobs) finished();
  });
  worker.on('error', () => undefined);
  return { worker, all };
}

/** A Worker with a no-op processor and `concurrency`, on a queue filled beforehand. */
export function rawWorker(redisUrl: string, prefix: string, jobs: number, concurrency: number): Promise<RawResult> {
  return onFreshQueue(redisUrl, prefix, async (raw) => {
    await fill(raw.queue, jobs);
    const started = performance.now();
    const { worker, all } = noopWorker(raw, jobs, concurrency);
    void worker.run();
    await all;
    return { worker, result: rate(jobs, performance.now() - started) };
  });
}

/** `loops` loops of getNextJob + moveToCompleted on one Worker without a processor. */
export function rawManualLoops(redisUrl: string, prefix: string, jobs: number, loops: number): Promise<RawResult> {
  return onFreshQueue(redisUrl, prefix, async (raw) => {
    await fill(raw.queue, jobs);
    const worker = new Worker(raw.name, null, { connection: raw.connection, prefix: raw.prefix, autorun: false });
    worker.on('error', () => undefined);
    await worker.waitUntilReady();
    let done = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: loops }, async () => {
        for (;;) {
          const token = randomUUID();
          const job = await worker.getNextJob(token, { block: false });
          if (!job) return;
          await job.moveToCompleted(null, token, false);
          done++;
        }
      }),
    );
    return { worker, result: rate(done, performance.now() - started) };
  });
}

/**
 * BullMQ end to end, the shape of the pipeline without HTTP or PostgreSQL: `producers` clients
 * each adding one no-op job at a time (the next when the last add returned) while a Worker of
 * `concurrency` processes them; timed from the first add to the last completion.
 */
export function rawAddAndProcess(redisUrl: string, prefix: string, jobs: number, producers: number, concurrency: number): Promise<RawResult> {
  return onFreshQueue(redisUrl, prefix, async (raw) => {
    const { worker, all } = noopWorker(raw, jobs, concurrency);
    await worker.waitUntilReady();
    const started = performance.now();
    void worker.run();
    let added = 0;
    await Promise.all(
      Array.from({ length: producers }, async () => {
        while (added < jobs) {
          const i = added++;
          await raw.queue.add('noop', { i }, { removeOnComplete: true });
        }
      }),
    );
    await all;
    return { worker, result: rate(jobs, performance.now() - started) };
  });
}
