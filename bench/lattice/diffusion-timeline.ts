/**
 * The per-thread timeline of diffusion runs (216³ × 10 steps, density 0.2, as the scaling row of
 * `npm run bench:lattice -- --threads-only`): one pool of two threads running THREADS-thread runs
 * only (as the bench's process per count does), after warm-up; reads the marks the pool and its
 * threads write under CC_TIMELINE=FILE (worker/kernels/timeline-marks.ts) and prints, per slab,
 * the median of each phase, the time it waited for the other slab, and the same for the fastest
 * and the slowest run.
 *
 *   CC_TIMELINE=/tmp/d.log node --import tsx bench/lattice/diffusion-timeline.ts [threads] [rounds] [side] [steps]
 */
import { truncateSync } from 'node:fs';
import { loadavg } from 'node:os';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { mark as mainMark } from '../../worker/kernels/timeline-marks.ts';
import { type Mark, readTimelineMarks } from './timeline-file.ts';

const file = process.env['CC_TIMELINE'];
if (file === undefined) throw new Error('set CC_TIMELINE=FILE');
const threads = Number(process.argv[2] ?? 2);
const rounds = Number(process.argv[3] ?? 12);
const side = Number(process.argv[4] ?? 216);
const steps = Number(process.argv[5] ?? 10);
const mid = side >> 1;
const spec = { shape: [side, side, side], boundary: 'open', obstacles: { density: 0.2, seed: 7 } };
const params = { steps, alpha: 0.15, initial: [{ cell: [mid, mid, mid], value: 1000 }] };
const warm = { shape: [27, 27, 27], boundary: 'open', obstacles: { density: 0.2, seed: 8 } };

const pool = new KernelPool({ threads: 2 });
await pool.start();
const loads: number[] = [];
try {
  for (let i = 0; i < 20; i++) await pool.run('diffusion', warm, { steps: 5, alpha: 0.15 }, { threads });
  for (let i = 0; i < 3; i++) await pool.run('diffusion', spec, params, { threads });
  truncateSync(file, 0);
  for (let round = 0; round < rounds; round++) {
    loads.push(loadavg()[0]!);
    mainMark('call');
    await pool.runDetailed('diffusion', spec, params, { threads });
    mainMark('return');
  }
} finally {
  await pool.close();
}

const marks = readTimelineMarks(file);
const runs: Mark[][] = [];
for (const m of marks) {
  if (m.tid === 0 && m.label === 'call') runs.push([]);
  runs[runs.length - 1]?.push(m);
}
const r2 = (x: number): number => Number(x.toFixed(2));
const median = (xs: number[]): number => r2([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);

/** One run's phases: per slab, and the main thread's. */
function phasesOf(run: Mark[]): Record<string, number> {
  const t0 = run[0]!.t;
  const main = (label: string): number => run.find((m) => m.tid === 0 && m.label === label)?.t ?? NaN;
  const out: Record<string, number> = {};
  const slabTids = new Map<number, number>();
  for (const m of run) if (m.tid !== 0 && m.label.startsWith('slab')) slabTids.set(Number(m.label.slice(4)), m.tid);
  const built = main('built');
  const ends: number[] = [];
  const waits: number[] = [];
  for (const [slab, tid] of [...slabTids].sort((a, b) => a[0] - b[0])) {
    // The thread's marks from its task on (a thread's marks of the run before may not fall in this window).
    const own = run.filter((m) => m.tid === tid);
    const taskAt = own.findIndex((m) => m.label === 'task');
    const mine = own.slice(taskAt);
    const at = (label: string): number => mine.find((m) => m.label === label)?.t ?? NaN;
    const p = `slab ${slab}: `;
    out[`${p}built → task`] = at('task') - built;
    out[`${p}take the kept instance (zeroed)`] = at('taken') - at('task');
    out[`${p}open mask`] = at('mask') - at('taken');
    out[`${p}codes`] = at('coded') - at('mask');
    out[`${p}mask cleared, heat`] = at('built') - at('coded');
    let wait = 0;
    let step = 0;
    let previous = at('built');
    for (const m of mine) {
      if (m.label === 'x-in') step += m.t - previous;
      if (m.label === 'x-out') {
        wait += m.t - (mine[mine.indexOf(m) - 1]?.t ?? m.t);
        previous = m.t;
      }
      if (m.label === 'stepped') {
        step += m.t - previous;
        previous = m.t;
      }
    }
    out[`${p}steps (and face copies)`] = step;
    out[`${p}waits for the other slab between steps`] = wait;
    out[`${p}summary`] = at('fin-in') - previous;
    out[`${p}wait at the final barrier`] = at('fin-out') - at('fin-in');
    if (!Number.isNaN(at('combined'))) out[`${p}combine`] = at('combined') - at('fin-out');
    out[`${p}envelope at`] = at('envelope') - t0;
    ends.push(at('envelope'));
    waits.push(wait + (at('fin-out') - at('fin-in')));
  }
  // Wake-ups: at each barrier, from the last arrival to the first departure of another thread
  // (the barrier per step of 4c0b1fb; with waits for a neighbour's face the pairs mean nothing).
  if (slabTids.size === 2) {
    const [a, b] = [...slabTids.values()].map((tid) => {
      const own = run.filter((m) => m.tid === tid);
      const mine = own.slice(own.findIndex((m) => m.label === 'task'));
      return { ins: mine.filter((m) => m.label === 'x-in' || m.label === 'fin-in').map((m) => m.t), outs: mine.filter((m) => m.label === 'x-out' || m.label === 'fin-out').map((m) => m.t) };
    });
    const wakes: number[] = [];
    const gaps: number[] = [];
    for (let k = 0; k < Math.min(a!.ins.length, b!.ins.length); k++) {
      const last = Math.max(a!.ins[k]!, b!.ins[k]!);
      const firstIsA = a!.ins[k]! < b!.ins[k]!;
      wakes.push((firstIsA ? a!.outs[k]! : b!.outs[k]!) - last);
      gaps.push(Math.abs(a!.ins[k]! - b!.ins[k]!));
    }
    out['barriers (barrier version only): arrival gap, sum'] = gaps.reduce((s, x) => s + x, 0);
    out['barriers (barrier version only): waiter woken after the last arrival, sum'] = wakes.reduce((s, x) => s + x, 0);
    out['barriers (barrier version only): waiter woken after the last arrival, max'] = Math.max(...wakes);
  }
  out['waits, both slabs'] = waits.reduce((s, x) => s + x, 0);
  const resolved = run.filter((m) => m.tid === 0 && m.label === 'resolved').map((m) => m.t);
  out['main: last envelope → last resolved'] = Math.max(...resolved) - Math.max(...ends);
  out['main: call → built'] = built - t0;
  out['main: last resolved → return'] = main('return') - Math.max(...resolved);
  out['total'] = main('return') - t0;
  return out;
}

const all = runs.map(phasesOf);
const totals = all.map((p) => p['total']!);
const order = [...totals.keys()].sort((a, b) => totals[a]! - totals[b]!);
const pick = (p: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, r2(v)]));
const medians: Record<string, number> = {};
for (const key of Object.keys(all[0]!)) medians[key] = median(all.map((p) => p[key]!).filter((x) => !Number.isNaN(x)));
console.log(
  JSON.stringify(
    {
      lattice: `${side}³ density 0.2, ${steps} steps`,
      threads,
      rounds,
      load_average: [Math.min(...loads), Math.max(...loads)].map(r2),
      totals: totals.map((x) => Number(x.toFixed(1))),
      median: medians,
      fastest: pick(all[order[0]!]!),
      slowest: pick(all[order[order.length - 1]!]!),
    },
    null,
    1,
  ),
);
