/**
 * Reads BullMQ job counts from every queue in a catalog and sums them by queue kind, plan and
 * state — the bounded labels of the queue-depth metrics. Reads run a few queues at a time and
 * the result is reused for `cacheMs`, so scrapers arriving together cost one pass.
 */
import { QUEUE_STATES, type QueueCountSample, type QueueCountsSource } from './metrics.ts';
import { PLAN_CODES } from './plans.ts';
import type { QueueCatalog } from './queue-catalog.ts';

export interface QueueCountsOptions {
  /**
   * How long one pass over the queues is reused (long enough to absorb scrapers that arrive
   * together, short enough that a scrape is never far behind).
   * @defaultValue 1000
   */
  cacheMs?: number;
  /**
   * Queues read at the same time.
   * @defaultValue 16
   */
  parallel?: number;
}

/** Runs `fn` over `items`, at most `parallel` at a time. */
async function mapLimited<T, R>(items: readonly T[], parallel: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(parallel, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** A metrics source over `catalog` (install it with `setQueueCountsSource`). */
export function queueCountsSource(catalog: QueueCatalog, options: QueueCountsOptions = {}): QueueCountsSource {
  const cacheMs = options.cacheMs ?? 1000;
  const parallel = options.parallel ?? 16;
  let cached: { at: number; samples: QueueCountSample[] } | undefined;
  let reading: Promise<QueueCountSample[]> | undefined;

  async function read(): Promise<QueueCountSample[]> {
    const entries = await catalog.list();
    const counts = await mapLimited(entries, parallel, (e) => e.queue.getJobCounts(...QUEUE_STATES));
    const sums = new Map<string, QueueCountSample>();
    const add = (queue: string, plan: string, state: (typeof QUEUE_STATES)[number], count: number) => {
      const key = `${queue}\u0000${plan}\u0000${state}`;
      const sample = sums.get(key) ?? { queue, plan, state, count: 0 };
      sample.count += count;
      sums.set(key, sample);
    };
    // Every plan reports, with zeros, so a plan without tenants is a 0 rather than a gap.
    for (const plan of PLAN_CODES) for (const state of QUEUE_STATES) add('tenant', plan, state, 0);
    entries.forEach((entry, i) => {
      for (const state of QUEUE_STATES) add(entry.kind, entry.plan, state, counts[i]?.[state] ?? 0);
    });
    const samples = [...sums.values()];
    cached = { at: Date.now(), samples };
    return samples;
  }

  return () => {
    if (cached && Date.now() - cached.at < cacheMs) return Promise.resolve(cached.samples);
    reading ??= read().finally(() => (reading = undefined));
    return reading;
  };
}
