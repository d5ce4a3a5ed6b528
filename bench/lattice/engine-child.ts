/**
 * One engine measurement in its own process, so its memory is not mixed with another's:
 * start a pool, warm it up, then time `repeats` runs of one job. Prints one JSON line.
 *
 * Usage: node --expose-gc --import tsx bench/lattice/engine-child.ts '<EngineJob JSON>'
 */
import type { KernelType } from '../../shared/lattice/types.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import type { KernelOutcome, KernelRunOptions } from '../../worker/kernels/kernel-run.ts';
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
}

const job = JSON.parse(process.argv[2]!) as EngineJob;
const pool = new KernelPool({ threads: job.poolThreads });
await pool.start();
try {
  if (job.warmup) {
    for (let i = 0; i < 20; i++) await pool.run(job.type, job.warmup.spec, job.warmup.params, job.options);
  }
  for (let i = 0; i < job.warmupRuns; i++) await pool.run(job.type, job.spec, job.params, job.options);
  collectGarbage();
  const baseline = procStatusBytes('VmRSS');
  const peakReset = resetPeakRss();
  const outcomes: KernelOutcome[] = [];
  const walls: number[] = [];
  const cpus: number[] = [];
  let rssDelta = NaN;
  for (let i = 0; i < job.repeats; i++) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    outcomes.push(await pool.runDetailed(job.type, job.spec, job.params, job.options));
    walls.push(performance.now() - started);
    const cpu = process.cpuUsage(cpuStarted);
    cpus.push((cpu.user + cpu.system) / 1000);
    // Peak memory of the first measured run; the others only add timings.
    if (i === 0) rssDelta = (peakReset ? procStatusBytes('VmHWM') : procStatusBytes('VmRSS')) - baseline;
  }
  const first = outcomes[0]!;
  const result = first.result as unknown as Record<string, unknown>;
  const summary: Record<string, unknown> = {};
  for (const key of ['reachable', 'length', 'cost', 'visited', 'count', 'largest', 'spans_axis0', 'total_heat', 'min', 'max', 'mean', 'reached', 'sources', 'field', 'path_omitted', 'spans_axis0_below_density', 'points']) {
    if (key in result) summary[key] = result[key];
  }
  const memory = result['memory_bytes'] as number;
  console.log(
    JSON.stringify({
      method: first.stats.method,
      threads: first.stats.threads,
      e2e_ms: round(median(walls)),
      e2e_ms_runs: walls.map((wall) => round(wall)),
      // CPU time of every thread of this process during the run: what the work costs whatever
      // else the machine is doing (wall time on a shared machine also counts waiting for a core).
      cpu_ms: round(median(cpus)),
      build_ms: round(median(outcomes.map((o) => o.stats.build_ms))),
      search_ms: round(median(outcomes.map((o) => o.stats.run_ms))),
      rss_delta_bytes: Math.max(0, rssDelta),
      bytes_allocated: memory,
      bits_per_cell: round((memory * 8) / first.stats.cells),
      peak_rss_method: peakReset ? 'VmHWM after clear_refs' : 'VmRSS after the run',
      ...summary,
    }),
  );
} finally {
  await pool.close();
}
