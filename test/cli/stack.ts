/**
 * Helpers of the SDK and CLI tests: a real worker process next to the test's API, the CLI run as
 * a child process with stdout and stderr apart, and a fetch that records what the API answered.
 *
 * `runCli` runs the executable as compiled once per test run (test/support/catalytic-bundle.ts):
 * these files run it dozens of times, and loading it through tsx took most of each run's time.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, inject } from 'vitest';
import type { TestEnvironment } from '../support/context.ts';
import { type CatalyticProcess, spawnCatalytic } from '../support/processes.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/catalytic.js', import.meta.url));

/** Worker settings for these tests: small pools, the machine's cores are shared. */
const WORKER_ENV = { LOG_LEVEL: 'info', DATABASE_POOL_MAX: '4', KERNEL_THREADS: '1', WORKER_CONCURRENCY: '2' };

/** Starts `catalytic worker` for the file's database and Redis prefix; stopped after the file. */
export async function startWorker(env: TestEnvironment): Promise<CatalyticProcess> {
  const worker = spawnCatalytic(['worker'], { ...env.env, ...WORKER_ENV });
  afterAll(async () => {
    if (worker.child.exitCode === null && worker.child.signalCode === null) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  });
  await worker.waitForLine(/job pipeline started/, 60_000);
  return worker;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `catalytic …` to its end with only the given environment (plus PATH and HOME). */
export function runCli(args: string[], env: Record<string, string>, options: { input?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [inject('catalyticBundle'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: env.HOME ?? process.env.HOME ?? '/tmp', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`catalytic ${args.join(' ')} did not finish in ${options.timeoutMs ?? 60_000} ms\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal === 'SIGINT' ? 2 : 9), stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** What {@link recordingFetch} saw of one request. */
export interface RecordedAnswer {
  /** When the request was sent and when its answer arrived (ms since the epoch). */
  sentAt: number;
  at: number;
  url: string;
  status: number;
  retryAfter: string | null;
}

/** A fetch that records when each request went out and what the API answered. */
export function recordingFetch(): { fetch: typeof fetch; answers: RecordedAnswer[] } {
  const answers: RecordedAnswer[] = [];
  return {
    answers,
    fetch: async (input, init) => {
      const sentAt = Date.now();
      const response = await fetch(input, init);
      answers.push({ sentAt, at: Date.now(), url: String(input), status: response.status, retryAfter: response.headers.get('retry-after') });
      return response;
    },
  };
}

/** A password the sign-up strength check accepts. */
export const STRONG_PASSWORD = 'Quartz-Lattice-Harbor-42!';
