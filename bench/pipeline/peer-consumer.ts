/**
 * The consumer side of a peer queue in its own process (bench/pipeline/peer-queues.ts):
 * `node --import tsx bench/pipeline/peer-consumer.ts graphile-worker|pg-boss <database url>`.
 * It processes no-op jobs with the peer's documented fast settings until it is terminated, and
 * prints `ready` once its schema exists and it is fetching.
 */
import { run } from 'graphile-worker';
import PgBoss from 'pg-boss';

const [kind, connectionString] = process.argv.slice(2) as [string, string];
/** Jobs run at once, as the Catalytic workers of the run have (2 processes × 8). */
const CONCURRENCY = 16;

async function graphileWorker(): Promise<() => Promise<void>> {
  // graphile-worker's performance guide: a local queue, and batched completion.
  const runner = await run({
    connectionString,
    concurrency: CONCURRENCY,
    noHandleSignals: true,
    pollInterval: 1000,
    taskList: { noop: async () => undefined },
    preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  });
  return () => runner.stop();
}

async function pgBoss(): Promise<() => Promise<void>> {
  const boss = new PgBoss({ connectionString, max: CONCURRENCY });
  boss.on('error', (err: unknown) => process.stderr.write(`pg-boss: ${String(err)}\n`));
  await boss.start();
  await boss.createQueue('noop');
  // Batches of 100 per fetch, at its shortest polling interval; several fetch loops at once.
  for (let i = 0; i < 4; i++) await boss.work('noop', { batchSize: 100, pollingIntervalSeconds: 0.5 }, async () => undefined);
  return () => boss.stop({ graceful: false, wait: true });
}

const stop = kind === 'graphile-worker' ? await graphileWorker() : kind === 'pg-boss' ? await pgBoss() : undefined;
if (!stop) throw new Error(`unknown peer ${kind}`);
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void stop().finally(() => process.exit(0));
});
