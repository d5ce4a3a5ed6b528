/**
 * The graphology peer, in its own process: build the grid as a graph (a node per open cell, an
 * edge per pair of open neighbours), then graphology-shortest-path's bidirectional search.
 * Prints one JSON line.
 *
 * Usage: node --expose-gc --max-old-space-size=16384 --import tsx bench/lattice/graphology-child.ts '<GraphologyJob JSON>'
 */
import { UndirectedGraph } from 'graphology';
import { bidirectional } from 'graphology-shortest-path/unweighted.js';
import { isProcedurallyBlocked, blockThreshold, seedOffset } from '../../shared/lattice/lowbias32.ts';
import { collectGarbage, procStatusBytes, resetPeakRss, round } from './measure.ts';

/** What the parent asks this process to measure. */
export interface GraphologyJob {
  shape: number[];
  density: number;
  seed: number;
  start: number[];
  end: number[];
}

const job = JSON.parse(process.argv[2]!) as GraphologyJob;
const { shape } = job;
const strides = shape.map((_, a) => shape.slice(a + 1).reduce((p, s) => p * s, 1));
const cells = shape.reduce((p, s) => p * s, 1);
const indexOf = (coords: number[]): number => coords.reduce((index, x, a) => index + x * strides[a]!, 0);
const start = indexOf(job.start);
const end = indexOf(job.end);
const threshold = blockThreshold(job.density);
const offset = seedOffset(job.seed);
const open = (i: number): boolean => i === start || i === end || !isProcedurallyBlocked(i, threshold, offset);

collectGarbage();
const heapBefore = process.memoryUsage();
const baseline = procStatusBytes('VmRSS');
const peakReset = resetPeakRss();

const cpuStarted = process.cpuUsage();
const buildStarted = performance.now();
const graph = new UndirectedGraph({ allowSelfLoops: false });
for (let i = 0; i < cells; i++) if (open(i)) graph.addNode(i);
for (let i = 0; i < cells; i++) {
  if (!open(i)) continue;
  let rest = i;
  for (let a = shape.length - 1; a >= 0; a--) {
    const x = rest % shape[a]!;
    rest = Math.floor(rest / shape[a]!);
    const up = i + strides[a]!;
    if (x < shape[a]! - 1 && open(up)) graph.addEdge(i, up);
  }
}
const buildMs = performance.now() - buildStarted;

const searchStarted = performance.now();
const path = bidirectional(graph, String(start), String(end));
const searchMs = performance.now() - searchStarted;
const cpu = process.cpuUsage(cpuStarted);

const peak = (peakReset ? procStatusBytes('VmHWM') : procStatusBytes('VmRSS')) - baseline;
collectGarbage();
const heapAfter = process.memoryUsage();
const retained =
  heapAfter.heapUsed - heapBefore.heapUsed + (heapAfter.external - heapBefore.external) + (heapAfter.arrayBuffers - heapBefore.arrayBuffers);

console.log(
  JSON.stringify({
    nodes: graph.order,
    edges: graph.size,
    build_ms: round(buildMs),
    search_ms: round(searchMs),
    e2e_ms: round(buildMs + searchMs),
    cpu_ms: round((cpu.user + cpu.system) / 1000),
    rss_delta_bytes: peak,
    bytes_allocated: retained,
    bytes_allocated_method: 'V8 heap + external retained by the graph after GC',
    length: path === null ? null : path.length - 1,
  }),
);
