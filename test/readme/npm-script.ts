/**
 * A package.json script run as `npm run` would run it (its command line, with this Node), without
 * npm in between: the process it starts is the test's child, stopped with SIGTERM by `stop()` (the
 * test file's afterAll calls it: a hook registered while another hook runs is not run by vitest,
 * which left each run's `npm start` stack behind), and with its parent (STOP_WITH_PARENT).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ScriptProcess {
  child: ChildProcess;
  output(): string;
  /** Stops the process with SIGTERM and waits for it to exit. */
  stop(): Promise<void>;
  /** Resolves with the first output line matching `pattern`; rejects on exit or timeout. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
}

/** The script's command line; only the simple `[exec] node <args…>` form is understood. */
export function scriptCommand(name: string): string[] {
  const scripts = (JSON.parse(readFileSync(new URL('package.json', `file://${ROOT}/`), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const words = (scripts[name] ?? '').replace(/^exec\s+/, '').split(/\s+/);
  if (words[0] !== 'node' || words.some((w) => /["'$&|;<>]/.test(w))) throw new Error(`the ${name} script is not a plain node command: ${scripts[name]}`);
  return words;
}

export function runScript(name: string, env: Record<string, string>): ScriptProcess {
  const [, ...args] = scriptCommand(name);
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', STOP_WITH_PARENT: 'true', ...env } });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
    async waitForLine(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = output.split('\n').find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited before printing ${pattern}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
