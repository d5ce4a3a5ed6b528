/**
 * The ceiling the pipeline is compared with: BullMQ itself moving no-op jobs through one queue
 * on the same Redis, with a Worker of concurrency 50 and with 50 manual-fetch loops (the way the
 * pipeline's worker fetches).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

export interface RawResult {
  jobs: number;
  seconds: number;
  jobs_per_s: number;
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

/** A Worker with a no-op processor and `concurrency`, on a queue filled beforehand. */
export async function rawWorker(redisUrl: string, prefix: string, jobs: number, concurrency: number): Promise<RawResult> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const name = `raw-${randomBytes(3).toString('hex')}`;
  const queue = new Queue(name, { connection, prefix });
  await fill(queue, jobs);
  let done = 0;
  let finished: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (finished = resolve));
  const started = performance.now();
  const worker = new Worker(name, async () => null, { connection, prefix, concurrency, autorun: false });
  worker.on('completed', () => {
    if (++done === jobs) finished();
  });
  worker.on('error', () => undefined);
  void worker.run();
  await all;
  const elapsed = performance.now() - started;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return rate(jobs, elapsed);
}

/** `loops` loops of getNextJob + moveToCompleted on one Worker without a processor. */
export async function rawManualLoops(redisUrl: string, prefix: string, jobs: number, loops: number): Promise<RawResult> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const name = `raw-${randomBytes(3).toString('hex')}`;
  const queue = new Queue(name, { connection, prefix });
  await fill(queue, jobs);
  const worker = new Worker(name, null, { connection, prefix, autorun: false });
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
  const elapsed = performance.now() - started;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return rate(done, elapsed);
}

/**
 * BullMQ end to end, the shape of the pipeline without HTTP or PostgreSQL: `producers` clients
 * each adding one no-op job at a time (the next when the last add returned) while a Worker of
 * `concurrency` processes them; timed from the first add to the last completion.
 */
export async function rawAddAndProcess(redisUrl: string, prefix: string, jobs: number, producers: number, concurrency: number): Promise<RawResult> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const name = `raw-${randomBytes(3).toString('hex')}`;
  const queue = new Queue(name, { connection, prefix });
  await queue.waitUntilReady();
  let done = 0;
  let finished: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (finished = resolve));
  const worker = new Worker(name, async () => null, { connection, prefix, concurrency, autorun: false });
  worker.on('completed', () => {
    if (++done === jobs) finished();
  });
  worker.on('error', () => undefined);
  await worker.waitUntilReady();
  const started = performance.now();
  void worker.run();
  let added = 0;
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (added < jobs) {
        const i = added++;
        await queue.add('noop', { i }, { removeOnComplete: true });
      }
    }),
  );
  await all;
  const elapsed = performance.now() - started;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return rate(jobs, elapsed);
}
