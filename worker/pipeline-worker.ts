/**
 * The worker role's job pipeline: fetches jobs from the tenant queues in weighted deficit round
 * robin (skipping tenants at their concurrency cap, counted across every worker process by
 * BullMQ's fetch script, and without asking Redis when this process alone holds the cap's worth), runs them on the kernel pool, keeps their locks alive (lock-keeper.ts),
 * and listens for cancels and wake-ups over Redis pub/sub.
 *
 * `close()` stops fetching, lets running jobs finish for half the shutdown grace period, then
 * hands the rest back to their queues (not charged as an attempt), and releases the pool and
 * connections. A worker killed without a chance to close loses its attempts, not its jobs: their
 * locks expire and a stalled check (any worker's) puts them back.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { closeRedis, createRedisFromConfig, duplicateRedis, type RedisClient, writeCommandsPerTurn } from '../shared/redis.ts';
import { fetcherConnectionName } from '../shared/queues/fetcher-connection-name.ts';
import { pipelineChannels } from '../shared/queues/names.ts';
import { dueTenants, recentlyActiveTenants, settleTenant } from '../shared/queues/ready-set.ts';
import type { Runtime } from '../shared/runtime.ts';
import { once, type Service } from '../shared/service.ts';
import type { DeliveryDispatcher } from '../shared/webhooks/job-events.ts';
import { workerMemoryBudget } from '../shared/memory-limit.ts';
import { DeficitRoundRobin, WAIT } from './deficit-round-robin.ts';
import { type HeldJob, JobRunner, type KernelRunner } from './job-runner.ts';
import { KernelPool } from './kernels/index.ts';
import { LockKeeper } from './lock-keeper.ts';
import { MemoryBudget } from './memory-budget.ts';
import { peekNextJob } from './next-job-peek.ts';
import { TenantPlans, type TenantPlan } from './tenant-plans.ts';
import { TenantWorkers } from './tenant-workers.ts';
import { UsageBuffer } from './usage-buffer.ts';

export interface PipelineWorkerOptions {
  /** Sends first attempts of webhook deliveries after a job's final state commits; none = the scheduler's retry job sends them. */
  dispatcher?: DeliveryDispatcher;
  /** Runs kernels; by default a KernelPool of KERNEL_THREADS threads, started and closed by the worker. */
  kernels?: KernelRunner;
  /**
   * How long `close()` waits for running jobs before handing them back, in ms.
   * @defaultValue half of SHUTDOWN_GRACE_MS
   */
  drainMs?: number;
  /**
   * Longest idle wait between two looks for work when no wake-up arrives, in ms.
   * @defaultValue 250
   */
  idlePollMs?: number;
}

/** How long an idle lane other than the first sleeps when nothing wakes it, in ms (lane 0 polls). */
const IDLE_LANE_MS = 5000;

/** A job fetched by the round robin, not yet running. */
interface Fetched {
  tenantId: string;
  token: string;
  plan: TenantPlan;
  job: HeldJob['job'];
  /** Bytes reserved for it in the memory budget until its run ends. */
  bytes: number;
}

/** What a started pipeline works with: created together by `start()`, closed by `close()`. */
interface Collaborators {
  /** BullMQ's connection, shared by every tenant queue. */
  connection: RedisClient;
  /** Wake-ups and cancels over pub/sub. */
  subscriber: RedisClient;
  /** The kernel pool this worker started, when none was given. */
  ownedPool: KernelPool | undefined;
  tenants: TenantWorkers;
  usage: UsageBuffer;
  runner: JobRunner;
  drr: DeficitRoundRobin<Fetched>;
  keeper: LockKeeper;
}

export class PipelineWorker implements Service {
  readonly name = 'job-pipeline';
  /** Identifies this process in job rows (`worker_id`) and logs. */
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

  /** Set once `start()` has created them. */
  private parts: Collaborators | undefined;
  private readonly plans: TenantPlans;
  /** What running jobs reserve in total; a job is fetched only when its reservation fits. */
  readonly memory: MemoryBudget;
  private readonly held = new Map<string, HeldJob>();
  private readonly runs = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  private stopping = false;
  /** Fetch lanes sleeping, each woken by any wake-up. */
  private readonly sleepers = new Set<() => void>();
  /**
   * Wake-ups so far. A lane notes the count before it looks for work and does not sleep if it
   * changed meanwhile: the round it was in may have listed the tenants before the new one, and
   * its job would otherwise wait for the idle poll.
   */
  private wakes = 0;
  /** Fetches in flight, by tenant (they count toward its cap as held jobs do). */
  private readonly fetching = new Map<string, number>();
  private fetchingCount = 0;
  private readonly concurrency: number;
  private readonly lanes: number;
  private readonly lockMs: number;
  private readonly stalledIntervalMs: number;

  constructor(
    private readonly runtime: Runtime,
    private readonly options: PipelineWorkerOptions = {},
  ) {
    const { config } = runtime;
    this.concurrency = config.WORKER_CONCURRENCY;
    this.lanes = Math.min(config.WORKER_FETCHES_AT_ONCE, config.WORKER_CONCURRENCY);
    this.lockMs = config.JOB_LOCK_MS;
    this.stalledIntervalMs = Math.max(500, Math.floor(config.JOB_LOCK_MS / 2));
    this.plans = new TenantPlans(runtime.db);
    this.memory = new MemoryBudget({ totalBytes: workerMemoryBudget(config) });
  }

  /** Jobs this process holds right now. */
  get activeJobs(): number {
    return this.held.size;
  }

  async start(): Promise<void> {
    const { config, logger, db } = this.runtime;
    const prefix = config.REDIS_PREFIX;
    // BullMQ needs a connection that waits out Redis restarts; it is shared by every tenant queue.
    const connection = createRedisFromConfig(config, fetcherConnectionName(prefix), 'blocking');
    // The fetches, completions and state versions of jobs that move together leave in one write.
    writeCommandsPerTurn(connection);
    const kernels = this.options.kernels ?? new KernelPool({ threads: config.KERNEL_THREADS, inlineMaxCells: config.KERNEL_INLINE_MAX_CELLS, warmUpRuns: config.KERNEL_WARMUP_RUNS, memoryLimitBytes: this.memory.total });
    // A pool made here is this worker's to start and close; a given one is its owner's.
    const ownedPool = kernels !== this.options.kernels && kernels instanceof KernelPool ? kernels : undefined;
    const tenants = new TenantWorkers({ connection, prefix, lockMs: this.lockMs, stalledIntervalMs: this.stalledIntervalMs, logger });
    const usage = new UsageBuffer(db, logger);
    const runner = new JobRunner({
      db,
      connection,
      prefix,
      workerId: this.workerId,
      kernels,
      logger,
      dispatcher: this.options.dispatcher,
      usage,
      writeBatchMax: config.WORKER_WRITE_BATCH_MAX,
      blobs: config,
    });
    const drr = new DeficitRoundRobin<Fetched>({
      dueTenants: () => dueTenants(connection, prefix),
      weights: async (ids) => new Map([...(await this.plans.get(ids))].map(([id, plan]) => [id, plan.weight])),
      fetch: (tenantId) => this.fetch(tenantId),
      empty: async (tenantId) => {
        await settleTenant(connection, prefix, tenantId);
      },
    });
    const keeper = new LockKeeper({
      db,
      logger,
      connection,
      prefix,
      tenants,
      lockMs: this.lockMs,
      stalledIntervalMs: this.stalledIntervalMs,
      held: this.held,
      cancel: (jobId) => this.cancelHeld(jobId),
    });
    const subscriber = duplicateRedis(connection, 'catalytic:worker:events');
    // Set before anything is awaited, so a start that fails halfway leaves close() all it must close.
    this.parts = { connection, subscriber, ownedPool, tenants, usage, runner, drr, keeper };
    await ownedPool?.start();
    await this.subscribe(subscriber);
    // Jobs some worker held recently get stalled checks from here too, in case that worker died.
    tenants.ensure(await recentlyActiveTenants(connection, prefix, 0));
    keeper.start();
    this.loop = Promise.all(Array.from({ length: this.lanes }, (_, lane) => this.fetchLoop(lane))).then(() => undefined);
    if (this.memory.total < config.MAX_JOB_MEMORY_BYTES) {
      logger.warn(
        { memoryBudgetBytes: this.memory.total, maxJobMemoryBytes: config.MAX_JOB_MEMORY_BYTES },
        'the memory budget is below MAX_JOB_MEMORY_BYTES: jobs larger than the budget wait for a worker with more memory',
      );
    }
    logger.info(
      { workerId: this.workerId, concurrency: this.concurrency, lockMs: this.lockMs, memoryBudgetBytes: this.memory.total },
      'job pipeline started',
    );
  }

  private async subscribe(subscriber: RedisClient): Promise<void> {
    const { logger, config } = this.runtime;
    const channels = pipelineChannels(config.REDIS_PREFIX);
    subscriber.on('error', (err: Error) => logger.debug({ err }, 'worker subscriber error'));
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === channels.wake) this.wake();
      else if (channel === channels.cancel) this.cancelHeld(message);
    });
    await subscriber.subscribe(channels.wake, channels.cancel);
  }

  private cancelHeld(jobId: string): void {
    for (const held of this.held.values()) {
      if (held.id === jobId || held.rowIds?.has(jobId)) {
        this.runtime.logger.info({ jobId }, 'cancelling a running job');
        this.parts?.runner.stop(held, 'cancel', jobId);
      }
    }
  }

  /**
   * Fetches the tenant's next job if its memory reservation fits now. While any job would fit,
   * it fetches at once; when memory is tight it first looks at the job it would get, and leaves
   * it queued (WAIT) if it does not fit. A job that turns out not to fit after all (the peek was
   * stale, or a delayed job came due) goes back to the head of its queue, uncharged.
   */
  private async fetch(tenantId: string): Promise<Fetched | undefined | typeof WAIT> {
    const plan = await this.plans.one(tenantId);
    // A tenant holding here alone (or fetching) as many jobs as its plan runs at once can start
    // none anywhere (the cap counts every worker's): it waits for one of them to end without a
    // round trip to Redis, so that a capped tenant's backlog adds nothing to the other tenants' fetches.
    if (plan.max_concurrent_jobs >= 0 && this.heldOf(tenantId) + (this.fetching.get(tenantId) ?? 0) >= plan.max_concurrent_jobs) return WAIT;
    this.fetching.set(tenantId, (this.fetching.get(tenantId) ?? 0) + 1);
    try {
      return await this.fetchFrom(tenantId, plan);
    } finally {
      const left = (this.fetching.get(tenantId) ?? 1) - 1;
      if (left > 0) this.fetching.set(tenantId, left);
      else this.fetching.delete(tenantId);
    }
  }

  /** `fetch` once the tenant may start one more here; counted in `fetching` meanwhile. */
  private async fetchFrom(tenantId: string, plan: TenantPlan): Promise<Fetched | undefined | typeof WAIT> {
    const { connection, tenants, keeper } = this.started();
    const { config } = this.runtime;
    await tenants.applyCap(tenantId, plan.max_concurrent_jobs);
    if (!this.memory.admitsAnyUpTo(config.MAX_JOB_MEMORY_BYTES)) {
      const next = await peekNextJob(connection, config.REDIS_PREFIX, tenantId);
      this.memory.notWaiting(tenantId, next?.id);
      if (next && !this.memory.admits({ tenantId, jobId: next.id, bytes: this.reservationOf(next.data) })) return WAIT;
    }
    const token = randomUUID();
    const job = await tenants.get(tenantId).getNextJob(token, { block: false });
    if (!job) return undefined;
    const bytes = this.reservationOf(job.data);
    if (!this.memory.tryReserve({ tenantId, jobId: job.id as string, bytes })) {
      await job.moveToWait(token).catch((err: unknown) => this.runtime.logger.warn({ err, jobId: job.id }, 'could not put back a job that does not fit'));
      return WAIT;
    }
    await keeper.advertise(tenantId);
    return { tenantId, token, plan, job, bytes };
  }

  /** Jobs of the tenant this process holds. */
  private heldOf(tenantId: string): number {
    let count = 0;
    for (const held of this.held.values()) if (held.tenantId === tenantId) count++;
    return count;
  }

  /** A queue entry's reservation; entries queued before reservations existed reserve the most a job may. */
  private reservationOf(data: Partial<HeldJob['job']['data']>): number {
    const bytes = data.memory_bytes;
    if (typeof bytes === 'number' && Number.isSafeInteger(bytes) && bytes >= 0) return bytes;
    return Math.min(this.runtime.config.MAX_JOB_MEMORY_BYTES, this.memory.total);
  }

  /**
   * One of the worker's fetch lanes (WORKER_FETCHES_AT_ONCE): each asks the round robin for a job
   * and launches it, so that several fetches are in flight while the others wait for Redis's
   * answer or for the event loop. Lane 0 polls for work when idle; the others sleep until woken
   * (a wake-up, a run ending), so an idle worker polls as one lane did.
   */
  private async fetchLoop(lane: number): Promise<void> {
    const { logger } = this.runtime;
    const { drr } = this.started();
    const idlePollMs = this.options.idlePollMs ?? 250;
    let failures = 0;
    while (!this.stopping) {
      const seen = this.wakes;
      if (this.held.size + this.fetchingCount >= this.concurrency) {
        await this.sleep(1000, seen);
        continue;
      }
      let fetched: Fetched | undefined;
      this.fetchingCount++;
      try {
        fetched = await drr.next();
        failures = 0;
      } catch (err) {
        failures++;
        logger.warn({ err }, 'fetching jobs failed; retrying');
        await this.sleep(Math.min(5000, 100 * 2 ** failures), seen);
        continue;
      } finally {
        this.fetchingCount--;
      }
      if (fetched) this.launch(fetched);
      else await this.sleep(lane === 0 ? idlePollMs : IDLE_LANE_MS, seen);
    }
  }

  /** Waits until `ms` pass or something wakes the lanes (work, a free slot, a stop) — at once if a wake-up came since `seen`. */
  private sleep(ms: number, seen: number): Promise<void> {
    if (this.stopping || this.wakes !== seen) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private wake(): void {
    this.wakes++;
    for (const done of [...this.sleepers]) done();
  }

  private launch(fetched: Fetched): void {
    const { logger } = this.runtime;
    const held: HeldJob = {
      id: fetched.job.id as string,
      tenantId: fetched.tenantId,
      token: fetched.token,
      job: fetched.job,
      plan: fetched.plan,
      abort: new AbortController(),
      lockedAt: Date.now(),
    };
    const { runner } = this.started();
    // Registered before the row says "running", so a cancel published after that is not missed.
    this.held.set(held.token, held);
    // No log context (AsyncLocalStorage) per job: on Node 20 a storage entered once turns on
    // promise hooks for every promise of the process, a cost on each promise a tiny job makes;
    // the runner's log lines name their job themselves.
    const run = runner
      .run(held)
      .catch((err: unknown) => {
        // The lock is no longer renewed: the job comes back after it expires and the row decides.
        logger.error({ err, jobId: held.id, tenantId: held.tenantId }, 'running a job failed; it will be picked up again');
      })
      .finally(() => {
        this.memory.release(fetched.bytes);
        this.held.delete(held.token);
        this.runs.delete(run);
        this.wake();
      });
    this.runs.add(run);
  }

  /** The collaborators; only the fetch loop and what it starts call this, after `start()`. */
  private started(): Collaborators {
    if (!this.parts) throw new Error('the job pipeline is not started');
    return this.parts;
  }

  readonly close = once(async () => {
    const { logger } = this.runtime;
    this.stopping = true;
    this.wake();
    await this.loop?.catch(() => undefined);
    await this.drain();
    const parts = this.parts;
    await parts?.keeper.stop();
    for (const step of [
      () => parts?.usage.close(),
      () => parts?.runner.close(),
      () => parts?.tenants.close(),
      () => parts?.ownedPool?.close(),
      () => (parts ? closeRedis(parts.subscriber) : undefined),
      () => (parts ? closeRedis(parts.connection) : undefined),
    ]) {
      try {
        await step();
      } catch (err) {
        logger.error({ err }, 'closing the job pipeline failed');
      }
    }
    logger.info({ workerId: this.workerId }, 'job pipeline stopped');
  });

  /** Lets running jobs finish for the drain time, then hands the rest back to their queues. */
  private async drain(): Promise<void> {
    if (this.runs.size === 0) return;
    const drainMs = this.options.drainMs ?? Math.floor(this.runtime.config.SHUTDOWN_GRACE_MS / 2);
    const all = () => Promise.allSettled([...this.runs]);
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      all().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), drainMs))),
    ]);
    clearTimeout(timer);
    if (finished) return;
    this.runtime.logger.info({ jobs: this.held.size }, 'handing running jobs back to their queues');
    for (const held of this.held.values()) this.parts?.runner.stop(held, 'shutdown');
    await all();
  }
}
