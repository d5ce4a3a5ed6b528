/**
 * The whole label array of a large components job, end to end, in bounded memory: a throwaway
 * stack (`catalytic api` and `catalytic worker` as child processes, PostgreSQL blobs by default),
 * a components job on a procedural lattice (10^4 × 10^4 = 10^8 cells by default: 400 MB of uint32
 * labels), then `catalytic result <id> --download labels.npy` streams it to disk. The API's and the
 * worker's resident memory is sampled every 50 ms from idle to the end; the figures are printed as
 * JSON, with the checks: the file is the `.npy` header and the blob's bytes (sha256), and both
 * processes stayed under the limit above their idle RSS.
 *
 *   node --import tsx bench/blobs/label-download.ts [--side 10000] [--density 0.3] [--limit-mb 200]
 *
 * Environment: BENCH_DATABASE_SERVER_URL, REDIS_URL; BENCH_WORKER_ENV adds `K=V,K=V` to the
 * worker's and API's environment (e.g. `BLOB_BACKEND=s3,S3_BUCKET=…`).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { rssBytes } from '../support/process-stats.ts';
import { BenchStack, freePort, ROOT } from '../support/stack.ts';

const { values } = parseArgs({
  options: {
    side: { type: 'string', default: '10000' },
    density: { type: 'string', default: '0.3' },
    'limit-mb': { type: 'string', default: '200' },
  },
});
const SIDE = Number(values.side);
const DENSITY = Number(values.density);
const LIMIT_BYTES = Number(values['limit-mb']) * 2 ** 20;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SERVER_URL = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';
const EXTRA_ENV = Object.fromEntries(
  (process.env.BENCH_WORKER_ENV ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
const MB = 2 ** 20;

/** Peak RSS of some processes, sampled until stopped. */
class RssSampler {
  readonly peak = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pids: number[]) {
    this.timer = setInterval(() => this.sample(), 50);
    this.sample();
  }
  private sample(): void {
    for (const pid of this.pids) this.peak.set(pid, Math.max(this.peak.get(pid) ?? 0, rssBytes(pid) ?? 0));
  }
  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

async function sha256Of(path: string, from: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { start: from, highWaterMark: 4 * MB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/catalytic.js'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, output }));
  });
}

async function main(): Promise<void> {
  const stack = new BenchStack({ serverUrl: SERVER_URL, redisUrl: REDIS_URL, name: 'labels', credentialPerSecond: 1_000_000 });
  const scratch = mkdtempSync(join(tmpdir(), 'catalytic-labels-'));
  try {
    await stack.start();
    const [tenant] = await stack.tenants(1);
    const api = await stack.api({ ...EXTRA_ENV, METRICS_PORT: String(await freePort()) });
    const worker = await stack.worker({ ...EXTRA_ENV, WORKER_CONCURRENCY: '1' });
    const headers = { authorization: tenant!.authorization, 'content-type': 'application/json' };
    // Idle: both processes started and settled, one small request served.
    await fetch(`${api.url}/api/usage`, { headers });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const idle = { api: rssBytes(api.pid) ?? 0, worker: rssBytes(worker.pid) ?? 0 };
    const sampler = new RssSampler([api.pid, worker.pid]);

    const started = performance.now();
    const submitted = await fetch(`${api.url}/api/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ type: 'components', lattice: { shape: [SIDE, SIDE], boundary: 'open', obstacles: { density: DENSITY, seed: 1 } }, params: {}, artefacts: ['labels'] }),
    });
    const job = (await submitted.json()) as { id: string; status: string };
    if (submitted.status !== 202) throw new Error(`submit answered ${submitted.status}: ${JSON.stringify(job)}`);
    let status = job.status;
    let result: Record<string, unknown> = {};
    while (status !== 'completed') {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const current = (await (await fetch(`${api.url}/api/jobs/${job.id}`, { headers })).json()) as { status: string; result?: Record<string, unknown>; error?: unknown };
      status = current.status;
      result = current.result ?? {};
      if (status === 'failed' || status === 'cancelled') throw new Error(`job ${status}: ${JSON.stringify(current.error)}`);
    }
    const jobSeconds = (performance.now() - started) / 1000;
    const listed = (await (await fetch(`${api.url}/api/jobs/${job.id}/artefacts`, { headers })).json()) as { data: Array<{ name: string; size: number; sha256: string }> };
    const labels = listed.data.find((a) => a.name === 'labels');
    if (!labels) throw new Error(`no labels artefact: ${JSON.stringify(listed)}`);

    const file = join(scratch, 'labels.npy');
    const downloadStarted = performance.now();
    const cli = await runCli(['result', job.id, '--download', file], { CATALYTIC_URL: api.url, CATALYTIC_API_KEY: tenant!.authorization.replace(/^Bearer /, '') });
    const downloadSeconds = (performance.now() - downloadStarted) / 1000;
    sampler.stop();
    if (cli.code !== 0) throw new Error(`catalytic result --download exited ${cli.code}: ${cli.output}`);

    const fileBytes = statSync(file).size;
    const headerBytes = fileBytes - labels.size;
    const fileSha = await sha256Of(file, headerBytes);
    const above = { api: sampler.peak.get(api.pid)! - idle.api, worker: sampler.peak.get(worker.pid)! - idle.worker };
    const report = {
      benchmark: 'label-download',
      lattice: { shape: [SIDE, SIDE], cells: SIDE * SIDE, density: DENSITY },
      blob_backend: EXTRA_ENV['BLOB_BACKEND'] ?? 'postgres',
      clusters: result['count'],
      labels_bytes: labels.size,
      file_bytes: fileBytes,
      npy_header_bytes: headerBytes,
      sha256_matches: fileSha === labels.sha256,
      job_seconds: Number(jobSeconds.toFixed(1)),
      download_seconds: Number(downloadSeconds.toFixed(1)),
      rss_mb: {
        api: { idle: Math.round(idle.api / MB), peak: Math.round(sampler.peak.get(api.pid)! / MB), above_idle: Math.round(above.api / MB) },
        worker: { idle: Math.round(idle.worker / MB), peak: Math.round(sampler.peak.get(worker.pid)! / MB), above_idle: Math.round(above.worker / MB) },
      },
      limit_mb_above_idle: LIMIT_BYTES / MB,
      within_limit: above.api < LIMIT_BYTES && above.worker < LIMIT_BYTES,
      load_average: loadavg().map((v) => Number(v.toFixed(2))),
    };
    console.log(JSON.stringify(report, null, 2));
    if (!report.sha256_matches || !report.within_limit || labels.size !== 4 * SIDE * SIDE) process.exitCode = 1;
  } finally {
    await stack.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
