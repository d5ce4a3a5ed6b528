/**
 * The metrics of a batch chunk's inline jobs (worker/job-runner.ts › runChunk), observed as a
 * single job's are but counted per chunk: counters are raised once a chunk with the sums, and
 * each histogram's labelled child is looked up once per job type instead of once per job (a
 * prom-client lookup hashes the labels every time).
 */
import { jobQueueWait, jobRunTime, jobsFinished, kernelCells } from '../shared/metrics.ts';
import type { FinalStatus } from '../shared/jobs/types.ts';

interface TypeTally {
  queueWait: ReturnType<typeof jobQueueWait.labels>;
  runTime: ReturnType<typeof jobRunTime.labels>;
  cells: number;
  finished: Map<FinalStatus, number>;
}

export class ChunkTally {
  private readonly byType = new Map<string, TypeTally>();

  constructor(private readonly plan: string) {}

  private of(type: string): TypeTally {
    let tally = this.byType.get(type);
    if (tally === undefined) {
      const labels = { type, plan: this.plan };
      tally = { queueWait: jobQueueWait.labels(labels), runTime: jobRunTime.labels(labels), cells: 0, finished: new Map() };
      this.byType.set(type, tally);
    }
    return tally;
  }

  /** A job's kernel ran: its wait from submit, its run time (both s) and its cells. */
  ran(type: string, queueWaitS: number, runS: number, cells: number): void {
    const tally = this.of(type);
    tally.queueWait.observe(queueWaitS);
    tally.runTime.observe(runS);
    tally.cells += cells;
  }

  /** A job's final state was written. */
  finished(type: string, status: FinalStatus): void {
    const { finished } = this.of(type);
    finished.set(status, (finished.get(status) ?? 0) + 1);
  }

  /** Raises the counters by what was tallied since the last flush. */
  flush(): void {
    for (const [type, tally] of this.byType) {
      if (tally.cells > 0) kernelCells.inc({ type }, tally.cells);
      for (const [status, n] of tally.finished) jobsFinished.inc({ type, status, plan: this.plan }, n);
      tally.cells = 0;
      tally.finished.clear();
    }
  }
}
