/**
 * How small jobs are cut into shared queue entries, for a batch's chunks and for tiny submissions
 * written together alike (docs/architecture.md › Batches, › The job pipeline).
 */

/**
 * Cuts `jobs` in order into runs of consecutive jobs that `work` admits (their compute in cells;
 * undefined leaves a job out of every run, without ending the one open), each of at most `maxJobs`
 * jobs and `maxCells` of compute.
 */
export function cutChunks<T>(jobs: readonly T[], work: (job: T) => number | undefined, limits: { maxJobs: number; maxCells: number }): T[][] {
  const chunks: T[][] = [];
  let open: T[] = [];
  let cells = 0;
  for (const job of jobs) {
    const w = work(job);
    if (w === undefined) continue;
    if (open.length >= limits.maxJobs || cells + w > limits.maxCells) {
      if (open.length > 0) chunks.push(open);
      open = [];
      cells = 0;
    }
    open.push(job);
    cells += w;
  }
  if (open.length > 0) chunks.push(open);
  return chunks;
}
