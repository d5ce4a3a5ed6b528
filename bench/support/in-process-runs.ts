/**
 * CPU time and minor page faults of a kernel run in this process, the figures the A/B benchmarks
 * compare: on the 2-core VM a fresh page costs ~3 ms of CPU per MiB, so faults explain much of
 * what separates two builds (docs/performance.md › Kept kernel memory).
 */

/** Median CPU ms and minor faults of runs 3..n of `once` (the first two warm up). */
export function measureCpuAndFaults(runs: number, once: () => void): { median_cpu_ms: number; median_faults: number } {
  const cpu: number[] = [];
  const faults: number[] = [];
  for (let rep = 0; rep < runs; rep++) {
    const used = process.cpuUsage();
    const faulted = process.resourceUsage().minorPageFault;
    once();
    const spent = process.cpuUsage(used);
    cpu.push((spent.user + spent.system) / 1000);
    faults.push(process.resourceUsage().minorPageFault - faulted);
  }
  const median = (values: number[]): number => values.slice(2).sort((a, b) => a - b)[Math.floor((values.length - 2) / 2)]!;
  return { median_cpu_ms: Number(median(cpu).toFixed(1)), median_faults: median(faults) };
}
