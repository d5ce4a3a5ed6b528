/**
 * One engine measurement in its own process, so its memory is not mixed with another's:
 * start a pool, warm it up, then time `repeats` runs of one job. Prints one JSON line.
 *
 * With `alternate` (thread counts), the counts take turns in this one pool, round by round, and it
 * prints one measurement per count: the 2 ÷ 1 thread rows then compare runs that met the same
 * machine over the same seconds, not two processes started a minute apart.
 *
 * Usage: node --expose-gc --import tsx bench/lattice/engine-child.ts '<EngineJob JSON>'
 */
import type { KernelType } from '../../shared/lattice/types.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import type { KernelOutcome, KernelRunOptions } from '../../worker/kernels/kernel-run.ts';
import { MachineProbe, type ProbeRound } from './machine-probe.ts';
import { collectGarbage, median, procStatusBytes, resetPeakRss, round } from './measure.ts';

/** What the parent asks this process to measure. */
export interface EngineJob {
  type: KernelType;
  spec: unknown;
  params: unknown;
  options: Pick<KernelRunOptions, 'strategy' | 'threads'>;
  repeats: number;
  poolThreads: number;
  /** A smaller job of the same shape of work, run first so timings are of compiled code. */
  warmup: { spec: unknown; params: unknown } | null;
  /** Unmeasured runs of the job itself before the measured ones (a long-lived worker is warm). */
  warmupRuns: number;
  /**
   * Thread counts measured alternating in this pool (`options.threads` is then ignored): each
   * warmed up, then `repeats` rounds of one run per count, the order reversed every other round.
   * The output is `{ by_threads: { [count]: measurement } }`.
   */
  alternate?: number[];
  /**
   * After the measured runs, as many rounds of machine-probe.ts in this process (memory stream and
   * ALU, one thread then two): the machine's own 2 ÷ 1 within a second of the runs, `probe_runs`
   * in the output. Not between the runs: a round right before a two-thread run inflated that run's
   * CPU (docs/performance.md › Two threads ÷ one: where the idle time goes).
   */
  probe?: boolean;
}

const job = JSON.parse(process.argv[2]!) as EngineJob;
const pool = new KernelPool({ threads: job.poolThreads });
const probe = job.probe === true ? new MachineProbe() : null;

/** One count's measured runs, and the peak memory of its first. */
interface Runs {
  outcomes: KernelOutcome[];
  walls: number[];
  cpus: number[];
  rssDelta: number;
  peakReset: boolean;
  probes: ProbeRound[];
}

async function warm(options: EngineJob['options']): Promise<void> {
  if (job.warmup) {
    for (let i = 0; i < 20; i++) await pool.run(job.type, job.warmup.spec, job.warmup.params, options);
  }
  for (let i = 0; i < job.warmupRuns; i++) await pool.run(job.type, job.spec, job.params, options);
}

/** One measured run into `runs`; the first also measures its peak memory over a collected heap. */
async function measure(options: EngineJob['options'], runs: Runs): Promise<void> {
  const first = runs.walls.length === 0;
  let baseline = NaN;
  if (first) {
    collectGarbage();
    baseline = procStatusBytes('VmRSS');
    runs.peakReset = resetPeakRss();
  }
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  runs.outcomes.push(await pool.runDetailed(job.type, job.spec, job.params, options));
  runs.walls.push(performance.now() - started);
  const cpu = process.cpuUsage(cpuStarted);
  runs.cpus.push((cpu.user + cpu.system) / 1000);
  // Peak memory of the first measured run; the others only add timings.
  if (first) runs.rssDelta = (runs.peakReset ? procStatusBytes('VmHWM') : procStatusBytes('VmRSS')) - baseline;
}

/** The probe's rounds after a count's measured runs, one per run. */
async function probeAfter(runs: Runs): Promise<void> {
  if (probe === null) return;
  for (let i = 0; i < runs.walls.length; i++) runs.probes.push(await probe.round());
}

function summary(runs: Runs): Record<string, unknown> {
  const { outcomes, walls, cpus, rssDelta, peakReset, probes } = runs;
  const first = outcomes[0]!;
  const result = first.result as unknown as Record<string, unknown>;
  const answer: Record<string, unknown> = {};
  for (const key of ['reachable', 'length', 'cost', 'visited', 'count', 'largest', 'spans_axis0', 'total_heat', 'min', 'max', 'mean', 'reached', 'sources', 'field', 'path_omitted', 'spans_axis0_below_density', 'points']) {
    if (key in result) answer[key] = result[key];
  }
  const memory = result['memory_bytes'] as number;
  return {
    method: first.stats.method,
    threads: first.stats.threads,
    e2e_ms: round(median(walls)),
    e2e_ms_runs: walls.map((wall) => round(wall)),
    // CPU time of every thread of this process during the run: what the work costs whatever
    // else the machine is doing (wall time on a shared machine also counts waiting for a core).
    cpu_ms: round(median(cpus)),
    cpu_ms_runs: cpus.map((cpu) => round(cpu)),
    build_ms: round(median(outcomes.map((o) => o.stats.build_ms))),
    search_ms: round(median(outcomes.map((o) => o.stats.run_ms))),
    rss_delta_bytes: Math.max(0, rssDelta),
    bytes_allocated: memory,
    bits_per_cell: round((memory * 8) / first.stats.cells),
    peak_rss_method: peakReset ? 'VmHWM after clear_refs' : 'VmRSS after the run',
    ...(probes.length > 0 ? { probe_runs: probes } : {}),
    ...answer,
  };
}

const fresh = (): Runs => ({ outcomes: [], walls: [], cpus: [], rssDelta: NaN, peakReset: false, probes: [] });

await pool.start();
try {
  if (job.alternate === undefined) {
    await warm(job.options);
    const runs = fresh();
    for (let i = 0; i < job.repeats; i++) await measure(job.options, runs);
    await probeAfter(runs);
    console.log(JSON.stringify(summary(runs)));
  } else {
    const counts = job.alternate;
    const optionsOf = (threads: number): EngineJob['options'] => ({ ...job.options, threads });
    for (const threads of counts) await warm(optionsOf(threads));
    const runs = new Map(counts.map((threads) => [threads, fresh()]));
    for (let turn = 0; turn < job.repeats; turn++) {
      for (const threads of turn % 2 === 0 ? counts : [...counts].reverse()) await measure(optionsOf(threads), runs.get(threads)!);
    }
    for (const threads of counts) await probeAfter(runs.get(threads)!);
    console.log(JSON.stringify({ by_threads: Object.fromEntries(counts.map((threads) => [threads, summary(runs.get(threads)!)])) }));
  }
} finally {
  await pool.close();
  await probe?.close();
}
