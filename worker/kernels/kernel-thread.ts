/**
 * The code a piscina thread runs (loaded through `thread.mjs`, which registers the TypeScript
 * loader first). One task is one slab of one kernel run; it never throws: errors come back as
 * data with their code, since a posted Error keeps only its message.
 */
import { bidirectionalBfsSlab } from './bidirectional-bfs.ts';
import { flatBfs } from './flat-bfs.ts';
import { twoSidedBfsThread } from './two-sided-bfs.ts';
import { twoSidedBricksThread } from './two-sided-bricks.ts';
import { componentsSlab } from './components.ts';
import { diffusionSlab } from './diffusion.ts';
import { distanceField } from './distance-field.ts';
import { weightedDistanceField } from './weighted-distance-field.ts';
import { floodComponents } from './flood-components.ts';
import { JobControl, SiblingFailed } from './job-control.ts';
import { isKernelError } from './kernel-errors.ts';
import { lowerBoundDive } from './lower-bound-dive.ts';
import { minCostPath } from './min-cost-path.ts';
import { pathPairs } from './path-pairs.ts';
import { pathResult } from './path-result.ts';
import { percolation } from './percolation.ts';
import { labelSlab } from './slab-labels.ts';
import type { KernelTask, TaskEnvelope } from './task.ts';
import { mark } from './timeline-marks.ts';

export default function runKernelTask(task: KernelTask): TaskEnvelope {
  if (task.kind === 'ping') return { ok: true, value: null, threadBytes: 0, timings: { build_ms: 0, run_ms: 0 } };
  mark('task');
  const control = JobControl.attach(task.control);
  const started = performance.now();
  try {
    switch (task.kind) {
      case 'label_slab': {
        const count = labelSlab(task.lattice, task.rowFrom, task.rowTo, new Uint32Array(task.labels), new Uint32Array(task.sizes), () => control.checkpoint());
        return done(count, task.lattice.strides[0]!, 0, started);
      }
      case 'dive': {
        // A dive that found nothing answers null: the bidirectional search takes over.
        const outcome = lowerBoundDive(task, control);
        const value = outcome.path === null ? null : pathResult(outcome.path, outcome.visited);
        return done(value, outcome.bytes, 0, started);
      }
      case 'bfs': {
        const { outcome, bytes, build_ms } = bidirectionalBfsSlab(task, control);
        const value = outcome === null ? null : pathResult(outcome.reachable ? outcome.path : null, outcome.visited);
        return done(value, bytes, build_ms, started);
      }
      case 'flat_bfs': {
        if (task.diveBudget !== undefined) {
          const { control: buffers, lattice, start, end, diveBudget: budget } = task;
          const dive = lowerBoundDive({ kind: 'dive', control: buffers, lattice, start, end, budget }, control);
          if (dive.path !== null) return { ...done(pathResult(dive.path, dive.visited), dive.bytes, 0, started), dived: true };
        }
        const { outcome, bytes, build_ms } = flatBfs(task, control);
        const value = pathResult(outcome.reachable ? outcome.path : null, outcome.visited);
        return done(value, bytes, build_ms, started);
      }
      case 'two_sided_bfs': {
        // Side 0's thread answers; side 1's reports only its memory.
        const { outcome, bytes, build_ms, dive } = task.bricks === true ? twoSidedBricksThread(task, control) : twoSidedBfsThread(task, control);
        if (dive?.path) return { ...done(pathResult(dive.path, dive.visited), bytes, build_ms, started), dived: true };
        const value = outcome === null ? null : pathResult(outcome.reachable ? outcome.path : null, outcome.visited);
        return done(value, bytes, build_ms, started);
      }
      case 'components': {
        const outcome = componentsSlab(task, control);
        mark('envelope');
        return done(outcome.result, outcome.bytes, outcome.build_ms, started);
      }
      case 'diffusion': {
        const outcome = diffusionSlab(task, control);
        mark('envelope');
        return done(outcome.result, outcome.bytes, outcome.build_ms, started);
      }
      case 'distance_field': {
        const outcome = task.params.costs === null ? distanceField(task.lattice, task.params, control) : weightedDistanceField(task.lattice, task.params, control);
        return done(outcome.result, outcome.bytes, outcome.build_ms, started);
      }
      case 'min_cost_path': {
        const outcome = minCostPath(task.lattice, task.params, control);
        return done(outcome.result, outcome.bytes, outcome.build_ms, started);
      }
      case 'percolation': {
        const outcome = percolation(task.lattice, task.params, control);
        return done(outcome.result, outcome.bytes, outcome.build_ms, started);
      }
      case 'flood_components': {
        const outcome = floodComponents(task.lattice, task.connectivity, control);
        return done(outcome.result, outcome.bytes, outcome.build_ms, started);
      }
      case 'path_pairs': {
        const outcome = pathPairs(task.lattice, task.pairs, task.connectivity, control);
        return done(outcome.result, outcome.bytes, outcome.build_ms, started);
      }
    }
  } catch (err) {
    const secondary = err instanceof SiblingFailed;
    const cancelled = isKernelError(err, 'cancelled');
    // A real failure must stop the sibling slabs, or they would wait at the barrier for it.
    if (!secondary && !cancelled) control.fail();
    const error = err instanceof Error ? err : new Error(String(err));
    return {
      ok: false,
      error: {
        name: error.name,
        code: cancelled ? 'cancelled' : 'kernel_failed',
        message: error.stack ?? error.message,
        secondary,
      },
    };
  }
}

function done(value: unknown, threadBytes: number, build_ms: number, started: number): Extract<TaskEnvelope, { ok: true }> {
  const total = performance.now() - started;
  return { ok: true, value, threadBytes, timings: { build_ms, run_ms: total - build_ms } };
}
