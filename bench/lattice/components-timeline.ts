/**
 * The timeline of components runs on 216³ (density 0.2), 1 and 2 threads alternating in one pool:
 * reads the timestamps the pool and its threads write under CC_TIMELINE=FILE (`mark`,
 * worker/kernels/timeline-marks.ts; nothing is written without it) and prints the median of each
 * phase per thread count, in ms since the call.
 *
 * With piscina's own marks as well (when a thread woke, when it posted its answer, when main got
 * it: `patch -d node_modules/piscina/dist -p1 < bench/lattice/piscina-timeline-marks.patch`, piscina
 * 5.3.2, reversed with `-R` afterwards) it splits the hand-offs too. The main marks `acquired` and
 * `built` time the pool's steps before the post. Marks cost ~5 µs each (CC_TIMELINE_HEAP=1 adds the
 * heap's bytes to each, ~10 µs more).
 *
 *   CC_TIMELINE=/tmp/t.log node --import tsx bench/lattice/components-timeline.ts [rounds] [side] [density] [pause_ms]
 */
import { truncateSync } from 'node:fs';
import { loadavg } from 'node:os';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { mark as mainMark } from '../../worker/kernels/timeline-marks.ts';
import { type Mark, readTimelineMarks } from './timeline-file.ts';

const file = process.env['CC_TIMELINE'];
if (file === undefined) throw new Error('set CC_TIMELINE=FILE');
const rounds = Number(process.argv[2] ?? 12);
const side = Number(process.argv[3] ?? 216);
const density = Number(process.argv[4] ?? 0.2);
/** A pause before each measured run, in ms (0: back to back, as a bench loop runs them; a worker has its queries between jobs). */
const pauseMs = Number(process.argv[5] ?? 0);
const spec = { shape: [side, side, side], boundary: 'open', obstacles: { density, seed: 7 } };
const warm = { shape: [27, 27, 27], boundary: 'open', obstacles: { density, seed: 8 } };

const pool = new KernelPool({ threads: 2 });
await pool.start();
const loads: number[] = [];
try {
  for (const threads of [1, 2]) {
    for (let i = 0; i < 20; i++) await pool.run('components', warm, {}, { threads });
    for (let i = 0; i < 3; i++) await pool.run('components', spec, {}, { threads });
  }
  truncateSync(file, 0);
  for (let round = 0; round < rounds; round++) {
    loads.push(loadavg()[0]!);
    for (const threads of round % 2 === 0 ? [1, 2] : [2, 1]) {
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      mainMark(`call${threads}`);
      await pool.runDetailed('components', spec, {}, { threads });
      mainMark('return');
    }
  }
} finally {
  await pool.close();
}

const marks = readTimelineMarks(file);
const runs: Array<{ threads: number; marks: Mark[] }> = [];
for (const m of marks) {
  if (m.tid === 0 && m.label.startsWith('call')) runs.push({ threads: Number(m.label.slice(4)), marks: [] });
  runs[runs.length - 1]?.marks.push(m);
}
const median = (xs: number[]): number => Number([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(2));
const phases: Record<string, Record<string, number[]>> = { '1': {}, '2': {} };
const add = (threads: number, name: string, value: number): void => void (phases[threads]![name] ??= []).push(value);
for (const run of runs) {
  const at = (label: string, tid = 0): number => run.marks.find((m) => m.label === label && m.tid === tid)?.t ?? NaN;
  const t0 = run.marks[0]!.t;
  // Threads that ran a task of this run (a thread's piscina marks of the run before may fall in its window).
  const threadIds = [...new Set(run.marks.filter((m) => m.tid !== 0 && m.label === 'task').map((m) => m.tid))];
  const lastTid = threadIds.find((tid) => run.marks.some((m) => m.tid === tid && m.label === 'arrive-last'))!;
  const ordered = [lastTid, ...threadIds.filter((tid) => tid !== lastTid)];
  add(run.threads, 'main: call → acquired', at('acquired') - t0);
  add(run.threads, 'main: acquired → built (buffers, tasks)', at('built') - at('acquired'));
  ordered.forEach((tid, k) => {
    const who = k === 0 ? 'last' : 'first';
    const get = (label: string): number => at(label, tid);
    add(run.threads, `${who}: built → task`, get('task') - at('built'));
    // With piscina's own marks (a measuring copy of node_modules/piscina): when the thread woke and posted its answer.
    if (run.marks.some((m) => m.label === 'p-woke')) {
      const woke = run.marks.filter((m) => m.tid === tid && m.label === 'p-woke').map((m) => m.t).find((t) => t >= at('built')) ?? NaN;
      add(run.threads, `${who}: built → thread woke`, woke - at('built'));
      add(run.threads, `${who}: thread woke → task`, get('task') - woke);
      const posting = run.marks.find((m) => m.tid === tid && m.label === 'p-posting' && m.t >= get('envelope'))?.t ?? NaN;
      add(run.threads, `${who}: envelope → posting`, posting - get('envelope'));
    }
    add(run.threads, `${who}: task → zeroed`, get('zeroed') - get('task'));
    add(run.threads, `${who}: zeroed → init`, get('init') - get('zeroed'));
    add(run.threads, `${who}: init → rows done (labelling)`, get('rows') - get('init'));
    add(run.threads, `${who}: rows → faces painted`, get('faces') - get('rows'));
    add(run.threads, `${who}: faces → arrived`, get(k === 0 ? 'arrive-last' : 'arrive-first') - get('faces'));
    if (k === 0) add(run.threads, 'last: arrived → merged', get('merged') - get('arrive-last'));
    add(run.threads, `${who}: → envelope`, get('envelope') - (k === 0 ? get('merged') : get('arrive-first')));
    add(run.threads, `${who}: rows done at`, get('rows') - t0);
    add(run.threads, `${who}: envelope at`, get('envelope') - t0);
  });
  if (ordered.length === 2) add(run.threads, 'rows done: last − first', at('rows', ordered[0]) - at('rows', ordered[1]));
  const resolved = run.marks.filter((m) => m.tid === 0 && m.label === 'resolved').map((m) => m.t);
  add(run.threads, 'main: last envelope → last resolved', Math.max(...resolved) - Math.max(...ordered.map((tid) => at('envelope', tid))));
  const posts = run.marks.filter((m) => m.tid === 0 && m.label === 'p-post').map((m) => m.t);
  const notified = run.marks.filter((m) => m.tid === 0 && m.label === 'p-notified').map((m) => m.t);
  const lastEnvelope = Math.max(...ordered.map((tid) => at('envelope', tid)));
  const responses = run.marks.filter((m) => m.tid === 0 && m.label === 'p-response' && m.t >= lastEnvelope).map((m) => m.t);
  if (posts.length > 0) {
    add(run.threads, 'main: built → first post', posts[0]! - at('built'));
    add(run.threads, 'main: post → notified (last task)', notified[notified.length - 1]! - posts[posts.length - 1]!);
    // After a slot answer, piscina's message (its stub) may come after the run resolved: the first response after the last envelope.
    add(run.threads, 'main: last envelope → first response after it', Math.min(...responses) - lastEnvelope);
  }
  add(run.threads, 'main: last resolved → settled', at('settled') - Math.max(...resolved));
  add(run.threads, 'main: settled → answered', at('answered') - at('settled'));
  add(run.threads, 'main: answered → return', at('return') - at('answered'));
  add(run.threads, 'total', at('return') - t0);
  for (const label of ['acquired', 'built']) add(run.threads, `main mark ${label} at`, at(label) - t0);
}
const out: Record<string, unknown> = { lattice: `${side}³ density ${density}`, rounds, load_average: [Math.min(...loads), Math.max(...loads)].map((x) => Number(x.toFixed(2))) };
for (const threads of ['1', '2']) out[`threads_${threads}`] = Object.fromEntries(Object.entries(phases[threads]!).map(([k, v]) => [k, median(v)]));
out['totals_2'] = phases['2']!['total']!.map((x) => Number(x.toFixed(1)));
out['totals_1'] = phases['1']!['total']!.map((x) => Number(x.toFixed(1)));
console.log(JSON.stringify(out, null, 1));
