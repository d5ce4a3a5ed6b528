/**
 * Reading back a file of the kernels' timeline marks (worker/kernels/timeline-marks.ts, one
 * "threadId label epoch-ms" line a mark; the main thread is thread 0).
 */
import { readFileSync } from 'node:fs';

export interface Mark {
  tid: number;
  label: string;
  t: number;
}

export function readTimelineMarks(file: string): Mark[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [tid, label, t] = line.split(' ');
      return { tid: Number(tid), label: label!, t: Number(t) };
    });
}
