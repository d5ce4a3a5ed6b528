/**
 * Timestamps for the per-thread timelines of bench/lattice/components-timeline.ts and
 * diffusion-timeline.ts: with CC_TIMELINE=FILE in the environment (threads inherit it), `mark`
 * appends "threadId label epoch-ms" to FILE from any thread (~5 µs a mark); without it, `mark` is
 * an empty function. CC_TIMELINE_HEAP=1 adds the heap's used and external bytes (~10 µs more).
 */
import { openSync, writeSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { threadId } from 'node:worker_threads';

const file = process.env['CC_TIMELINE'];
const heap = process.env['CC_TIMELINE_HEAP'] === '1';
let fd = -1;

function write(label: string): void {
  if (fd < 0) fd = openSync(file!, 'a');
  const t = (performance.timeOrigin + performance.now()).toFixed(4);
  if (!heap) {
    writeSync(fd, `${threadId} ${label} ${t}\n`);
    return;
  }
  const stats = getHeapStatistics();
  writeSync(fd, `${threadId} ${label} ${t} ${stats.used_heap_size} ${stats.external_memory}\n`);
}

/** Records `label` now, in this thread, when CC_TIMELINE names a file; else does nothing. */
export const mark: (label: string) => void = file === undefined || file === '' ? () => undefined : write;
