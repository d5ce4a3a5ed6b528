/** JobControl.arriveLast: of a run's threads, exactly the last to arrive merges (components.ts). */
import { describe, expect, it } from 'vitest';
import { JobControl } from '../../worker/kernels/job-control.ts';
import { KernelError } from '../../worker/kernels/kernel-errors.ts';

describe('JobControl.arriveLast', () => {
  it('is true for the last of the run’s threads only, whatever their number', () => {
    for (const threads of [1, 2, 3, 5]) {
      const control = JobControl.create(threads);
      // Each thread wraps the buffers itself, as the slab threads do.
      const answers = Array.from({ length: threads }, () => JobControl.attach(control.buffers).arriveLast());
      expect(answers).toEqual([...new Array<boolean>(threads - 1).fill(false), true]);
    }
  });

  it('throws once the run is cancelled, so a cancelled thread does not merge', () => {
    const control = JobControl.create(2);
    control.cancel();
    expect(() => control.arriveLast()).toThrow(KernelError);
  });
});
