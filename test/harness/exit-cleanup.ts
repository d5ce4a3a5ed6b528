/**
 * Last-resort cleanup: synchronous steps run when the process exits without having stopped what
 * it started (a failed run, an uncaught error), so no server outlives the test run.
 */

const steps = new Set<() => void>();
let installed = false;

/** Registers a synchronous step; returns the function that unregisters it (after a clean stop). */
export function onExit(step: () => void): () => void {
  if (!installed) {
    installed = true;
    process.once('exit', () => {
      for (const s of steps) {
        try {
          s();
        } catch {
          // Best effort: the process is going away.
        }
      }
    });
  }
  steps.add(step);
  return () => steps.delete(step);
}
