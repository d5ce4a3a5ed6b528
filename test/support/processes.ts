/**
 * Real `catalytic` processes for tests: spawn one with an environment, wait for a log line, signal
 * it, await its exit code. Every process spawned is killed after the file if still running.
 *
 * They run the executable as compiled once per test run (catalytic-bundle.ts), not
 * `bin/catalytic.js`: a start through tsx costs 1–3 s more CPU, hundreds of times a run. The
 * README tests still run `npm start` and `bin/catalytic.js` as users do.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, inject } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CatalyticProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first line matching `pattern`; rejects on exit or timeout. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or 128 + signal number when killed by a signal). */
  exited: Promise<number>;
}

const running = new Set<ChildProcess>();
const killRunning = () => {
  for (const child of running) child.kill('SIGKILL');
};

// Registered when a test file imports this module (hooks registered from inside a running test
// are ignored); the exit hook covers a test process that ends without running its hooks.
afterAll(killRunning);
process.once('exit', killRunning);

export function spawnCatalytic(args: string[], env: Record<string, string>): CatalyticProcess {
  const child = spawn(process.execPath, [inject('catalyticBundle'), ...args], {
    cwd: ROOT,
    // STOP_WITH_PARENT: a test process killed outright (a timeout around vitest) leaves no orphans.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', STOP_WITH_PARENT: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  // 'exit' can come before the pipes are drained, so the last lines a process printed (its
  // "stopped" line) would be missing; wait for both pipes to close, but no more than a second in
  // case a grandchild still holds them.
  const drained = Promise.all([child.stdout, child.stderr].map((stream) =>
    stream === null || stream.readableEnded ? Promise.resolve() : new Promise<void>((resolve) => stream.once('close', () => resolve()))));
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      const status = code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 1);
      const grace = new Promise<void>((r) => setTimeout(r, 1_000).unref());
      void Promise.race([drained, grace]).then(() => {
        for (const listener of listeners) listener();
        resolve(status);
      });
    });
  });
  return {
    child,
    output: () => output,
    exited,
    waitForLine(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = output.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) return done(() => resolve(line));
          if (child.exitCode !== null || child.signalCode !== null) {
            done(() => reject(new Error(`process exited before printing ${pattern}:\n${output}`)));
          }
        };
        const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${pattern}:\n${output}`))), timeoutMs);
        const done = (fn: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          fn();
        };
        listeners.add(check);
        check();
      });
    },
  };
}
