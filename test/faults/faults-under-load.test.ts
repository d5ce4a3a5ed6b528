/**
 * Nothing lost, nothing done twice (docs/architecture.md › Losing nothing), shown with real processes: 2 API, 2 worker and
 * 2 scheduler processes against a private PostgreSQL and a private Redis (never the machine's
 * shared ones: this suite stops them), under a steady stream of jobs from 3 tenants with webhook
 * endpoints. In turn: kill -9 a worker, kill -9 an API process, restart Redis (losing every key),
 * stop PostgreSQL for 10 s, kill a scheduler in the middle of a webhook retry. After each, once
 * the stream ends: every accepted job is final, completed jobs have exactly one result and the
 * others none, every job's event reached its endpoint verified and as exactly one event, no job is
 * left running, and every API answers /ready with 200. Counts are printed as JSON.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, type Db } from '../../shared/db.ts';
import { ApiClient } from '../harness/api-client.ts';
import { type Cluster, type ClusterProcess, startCluster } from '../harness/cluster.ts';
import { JobStream, type AcceptedJob, type StreamTenant } from '../harness/job-stream.ts';
import { balance, type LedgerCounts, waitForFinal, waitForWebhooks } from '../harness/ledger.ts';
import { type PostgresServer, startPostgresServer } from '../harness/postgres-server.ts';
import { type RedisServer, startRedisServer } from '../harness/redis-server.ts';
import { pidOwningConnection } from '../harness/socket-owner.ts';
import { WebhookReceiver } from '../harness/webhook-receiver.ts';
import { createStreamTenants } from '../harness/stream-tenants.ts';
import { until } from '../harness/until.ts';

const PLANS = ['professional', 'professional', 'enterprise'];
/** Jobs per second of the stream, across the 3 tenants. */
const RATE = 4;
/** Streaming before and after each fault, in ms. */
const LEAD_MS = 3000;
const TAIL_MS = 3000;
/** Jobs submitted at once right before the infrastructure faults. */
const BACKLOG = 24;

let postgres: PostgresServer;
let redis: RedisServer;
let cluster: Cluster;
let db: Db;
let client: ApiClient;
let receiver: WebhookReceiver;
let tenants: StreamTenant[] = [];
/** Tenant id → its endpoint's path at the receiver. */
let paths = new Map<string, string>();
/** Every job any phase was answered for (for the orphan check). */
const allAccepted = new Set<string>();
const summaries: Array<{ fault: string } & LedgerCounts> = [];
let failed = false;

/** Receiver behaviour for the scheduler phase. */
const trap = {
  /** Answer 503 to first attempts, so events go to the scheduler's retries. */
  failFirstAttempts: false,
  /** Kill the scheduler that sends the next retry, while it waits for the answer. */
  armed: false,
  killed: undefined as ClusterProcess | undefined,
};

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgresServer(), startRedisServer()]);
  receiver = await new WebhookReceiver({
    respond: async (delivery) => {
      if (trap.armed && delivery.nth >= 1) {
        trap.armed = false;
        const schedulers = cluster.schedulers.filter((s) => s.running);
        const pid = await pidOwningConnection(delivery.remotePort, receiver.port, schedulers.map((s) => s.pid as number));
        const sender = schedulers.find((s) => s.pid === pid);
        if (!sender) {
          trap.armed = true;
          return 503;
        }
        // The retry is in flight in this scheduler: it holds the delivery's row lock and waits
        // for this answer. It never gets one.
        await cluster.kill(sender, 'SIGKILL');
        trap.killed = sender;
        return 503;
      }
      if (trap.failFirstAttempts && delivery.nth === 0) return 503;
      return 200;
    },
  }).start();
  cluster = await startCluster({ postgresServerUrl: postgres.serverUrl, redisUrl: redis.url, apis: 2, workers: 2, schedulers: 2, entry: inject('catalyticBundle') });
  db = createDb({ url: cluster.databaseUrl, poolMax: 3 });
  client = new ApiClient({ urls: () => cluster.apiUrls(), retryForMs: 90_000 });
  ({ tenants, paths } = await createStreamTenants(db, client, receiver, { plans: PLANS, namePrefix: 'faults' }));
}, 180_000);

afterAll(async () => {
  const total = summaries.reduce(
    (sum, s) => {
      for (const key of ['accepted', 'completed', 'failed', 'cancelled', 'retried', 'duplicates', 'lost'] as const) sum[key] += s[key];
      return sum;
    },
    { accepted: 0, completed: 0, failed: 0, cancelled: 0, retried: 0, duplicates: 0, lost: 0 },
  );
  console.log(JSON.stringify({ suite: 'faults', faults: summaries, total }));
  await db?.destroy();
  const keepLogs = failed || process.env.FAULTS_KEEP_LOGS === '1';
  await cluster?.stop({ keepLogs });
  if (keepLogs && cluster) console.log(`process logs kept in ${cluster.logDir}`);
  await receiver?.close();
  await Promise.allSettled([postgres?.destroy(), redis?.stop()]);
}, 120_000);

afterEach(({ task }) => {
  if (task.result?.state === 'fail') failed = true;
});

/** The worker process holding a running job (by the row's worker_id `host:pid:…`), if any. */
async function workerWithRunningJob(): Promise<ClusterProcess | undefined> {
  const rows = (await db('jobs').where({ status: 'running' }).select('worker_id')) as Array<{ worker_id: string | null }>;
  const pids = new Set(rows.map((r) => Number(r.worker_id?.split(':')[1])));
  return cluster.workers.find((w) => w.running && pids.has(w.pid as number));
}


/**
 * Streams jobs, injects the fault after LEAD_MS, streams TAIL_MS more, then waits for the system
 * to settle and balances the books of this phase's jobs. `inject` returns once the fault is in
 * place, with the recovery (a replacement process starting) as a promise awaited after the stream.
 */
async function underLoad(fault: string, inject: (stream: JobStream) => Promise<Promise<void> | void>): Promise<void> {
  const started = Date.now();
  const since = new Date(started - 1000);
  const retriesBefore = client.stats.retries;
  const stream = new JobStream({ client, tenants, perSecond: RATE }).start();
  let recovery: Promise<void> | void = undefined;
  try {
    await new Promise((r) => setTimeout(r, LEAD_MS));
    recovery = await inject(stream);
    await new Promise((r) => setTimeout(r, TAIL_MS));
  } finally {
    await stream.stop();
    await recovery;
  }
  const streamedMs = Date.now() - started;
  const accepted: ReadonlyMap<string, AcceptedJob> = stream.accepted;
  for (const id of accepted.keys()) allAccepted.add(id);
  const ids = [...accepted.keys()];
  await waitForFinal(db, ids, 120_000);
  await waitForWebhooks(db, receiver, ids, paths, 60_000);
  await cluster.ready(30_000);
  const ledger = await balance(db, accepted, receiver, paths, { since, knownIds: allAccepted });
  const running = (await db('jobs').where({ status: 'running' }).count<Array<{ count: string }>>('* as count'))[0]?.count;
  const summary = {
    fault,
    ...ledger.counts,
    submissions: stream.submissions,
    refused: stream.refused.length,
    unanswered: stream.errors.length,
    clientRetries: client.stats.retries - retriesBefore,
    streamedMs,
    settledMs: Date.now() - started - streamedMs,
  };
  summaries.push(summary);
  console.log(JSON.stringify(summary));
  if (ledger.failures.length > 0) console.log(JSON.stringify({ fault, failures: ledger.failures }));
  expect(ledger.problems).toEqual([]);
  expect(stream.refused).toEqual([]);
  expect(stream.errors).toEqual([]);
  expect(ledger.counts.lost).toBe(0);
  expect(ledger.counts.duplicates).toBe(0);
  expect(ledger.counts.accepted).toBeGreaterThan(10);
  expect(Number(running)).toBe(0);
}

describe('faults under a steady stream of jobs from 3 tenants', () => {
  it('kill -9 one worker (while it runs a job), then start a replacement', { timeout: 240_000 }, async () => {
    await underLoad('kill -9 worker', async () => {
      const victim = await until('a worker running a job', workerWithRunningJob);
      await cluster.kill(victim, 'SIGKILL');
      return cluster.start(victim);
    });
  });

  it('kill -9 one API process; clients carry on with the other', { timeout: 240_000 }, async () => {
    await underLoad('kill -9 api', async () => {
      const victim = cluster.apis[0] as ClusterProcess;
      await cluster.kill(victim, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 2000));
      return cluster.start(victim);
    });
  });

  it('restart Redis, losing every key: reconcile rebuilds the queues from PostgreSQL', { timeout: 240_000 }, async () => {
    await underLoad('restart redis', async (stream) => {
      // A backlog, so that Redis loses queued jobs and not only an idle queue.
      await stream.burst(BACKLOG);
      await redis.restart();
    });
  });

  it('stop PostgreSQL for 10 s', { timeout: 240_000 }, async () => {
    await underLoad('stop postgres 10s', async (stream) => {
      await stream.burst(BACKLOG);
      await postgres.stop();
      await new Promise((r) => setTimeout(r, 10_000));
      await postgres.start();
    });
  });

  it('kill -9 a scheduler while it is making a webhook retry', { timeout: 240_000 }, async () => {
    trap.failFirstAttempts = true;
    try {
      await underLoad('kill -9 scheduler during webhook retry', async () => {
        trap.killed = undefined;
        trap.armed = true;
        const killed = await until('a scheduler killed mid-retry', () => trap.killed, 30_000);
        return cluster.start(killed);
      });
    } finally {
      trap.failFirstAttempts = false;
      trap.armed = false;
    }
    expect(trap.killed).toBeDefined();
  });
});
