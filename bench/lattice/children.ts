/** The benchmark's measurements, each in a child process of its own that prints one JSON line. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EngineJob } from './engine-child.ts';
import type { GraphologyJob } from './graphology-child.ts';

/** One measurement as its child printed it, `{error}` when it failed, or `{skipped}`. */
export type Measurement = Record<string, unknown>;

/** Debian's python, where python3-igraph, -skimage, -scipy and -numpy install. */
export const PYTHON = '/usr/bin/python3';
const CHILD_TIMEOUT_MS = 10 * 60_000;

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

export function log(message: string): void {
  process.stderr.write(`[bench:lattice] ${message}\n`);
}

/** Whether a measurement answered (was neither skipped nor failed). */
export function answered(m: Measurement | undefined): m is Measurement {
  return m !== undefined && !('skipped' in m) && !('error' in m);
}

/** Runs a child process that prints one JSON line; a failure becomes `{error}`. */
function child(command: string, argv: string[], label: string, timeout = CHILD_TIMEOUT_MS, env?: NodeJS.ProcessEnv): Measurement {
  log(`${label} …`);
  const started = performance.now();
  const run = spawnSync(command, argv, { encoding: 'utf8', maxBuffer: 64 << 20, timeout, ...(env === undefined ? {} : { env }) });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (run.error || run.status !== 0) {
    const reason = run.error?.message ?? `exit ${run.status}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    log(`${label} failed after ${seconds} s: ${reason}`);
    return { error: reason };
  }
  const line = run.stdout.trim().split('\n').pop() ?? '{}';
  log(`${label} done in ${seconds} s`);
  return JSON.parse(line) as Measurement;
}

/** The compiled kernel thread the engine children's pools load, once `useKernelThread` named one. */
let kernelThread: string | undefined;

/**
 * Points the engine children's kernel threads at a compiled entry (KERNEL_THREAD_FILE), so no
 * thread registers tsx and compiles the kernels' modules through it; undefined: the source entry.
 */
export function useKernelThread(file: string | undefined): void {
  kernelThread = file;
}

/** Catalytic's kernel pool in a process of its own (engine-child.ts). */
export function engine(job: EngineJob, label: string, timeout = CHILD_TIMEOUT_MS): Measurement {
  const argv = ['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx', here('./engine-child.ts'), JSON.stringify(job)];
  const env = kernelThread === undefined ? undefined : { ...process.env, KERNEL_THREAD_FILE: kernelThread };
  return child(process.execPath, argv, label, timeout, env);
}

/**
 * The machine's own 2 ÷ 1: one round of core-scaling.ts (a pure-ALU loop in one thread, then in
 * two at once), so a scaling row can be read beside what the host gave two threads that minute.
 */
export function coreScaling(iterations: number, label: string): Measurement {
  return child(process.execPath, ['--import', 'tsx', here('./core-scaling.ts'), '1', String(iterations)], label);
}

export function graphology(job: GraphologyJob, label: string): Measurement {
  const argv = ['--expose-gc', '--max-old-space-size=16384', '--import', 'tsx', here('./graphology-child.ts'), JSON.stringify(job)];
  return child(process.execPath, argv, label);
}

export function igraph(job: object, blockedFile: string, label: string): Measurement {
  return child(PYTHON, [here('./igraph_peer.py'), JSON.stringify(job), blockedFile], label);
}

/** A grid-native peer (grid_peers.py): `mcp`, `label` or `diffusion`. */
export function gridPeer(kind: 'mcp' | 'label' | 'diffusion', job: object, maskFile: string, label: string): Measurement {
  return child(PYTHON, [here('./grid_peers.py'), kind, JSON.stringify(job), maskFile], label);
}

/** scikit-image MCP beside distance_field (`distance`) and min_cost_path (`mincost`): field_peers.py. */
export function fieldPeer(kind: 'distance' | 'mincost', job: object, maskFile: string, label: string): Measurement {
  return child(PYTHON, [here('./field_peers.py'), kind, JSON.stringify(job), maskFile], label);
}

/** Which Python modules import under Debian's python. */
export function pythonModules(): Record<'igraph' | 'skimage' | 'scipy' | 'numpy', boolean> {
  const has = (module: string): boolean => spawnSync(PYTHON, ['-c', `import ${module}`], { encoding: 'utf8' }).status === 0;
  return { igraph: has('igraph'), skimage: has('skimage'), scipy: has('scipy'), numpy: has('numpy') };
}
