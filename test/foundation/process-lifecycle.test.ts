import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { useTestEnvironment } from '../support/context.ts';
import { spawnCatalytic } from '../support/processes.ts';

const env = useTestEnvironment({ LOG_LEVEL: 'info' });

/** Resolves once `check` holds, looking every 100 ms; rejects after `timeoutMs`. */
async function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the catalytic process', () => {
  it('brings all roles up, answers /health, and exits 0 on SIGTERM when idle', async () => {
    const proc = spawnCatalytic(['all'], env.env);
    const line = await proc.waitForLine(/catalytic all is running/);
    const url = (JSON.parse(line) as { api: string }).api;
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { version: string; dependencies: Record<string, { status: string }> };
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.dependencies.postgres?.status).toBe('up');
    expect(body.dependencies.redis?.status).toBe('up');
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('exits 0 on SIGTERM during start-up, before it starts serving', async () => {
    const proc = spawnCatalytic(['all'], { ...env.env, LOG_LEVEL: 'debug' });
    await proc.waitForLine(/"service":"check-postgres"/);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.output()).not.toMatch(/is running/);
  });

  it('exits 0 on SIGINT too, with a last line saying it stopped', async () => {
    const proc = spawnCatalytic(['api'], env.env);
    await proc.waitForLine(/catalytic api is running/);
    proc.child.kill('SIGINT');
    expect(await proc.exited).toBe(0);
    expect(proc.output().trim().split('\n').at(-1)).toMatch(/catalytic api stopped/);
  });

  it('takes a Ctrl-C that arrives twice at once (terminal and npm) as one stop, not a forced exit', async () => {
    const proc = spawnCatalytic(['api'], env.env);
    await proc.waitForLine(/catalytic api is running/);
    proc.child.kill('SIGINT');
    proc.child.kill('SIGINT');
    const code = await proc.exited;
    expect(code, proc.output()).toBe(0);
    expect(proc.output()).not.toMatch(/second signal/);
  });

  it('stops as on SIGTERM when the process that started it is killed outright (STOP_WITH_PARENT)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'catalytic-orphan-'));
    const log = join(dir, 'api.log');
    // A parent that starts the api in the background, prints its pid, then waits to be killed.
    const parent = spawn('sh', ['-c', '"$0" "$1" api > "$2" 2>&1 & echo $!; exec sleep 600', process.execPath, inject('catalyticBundle'), log], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env.env, STOP_WITH_PARENT: 'true' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [first] = (await once(parent.stdout!, 'data')) as [Buffer];
    const pid = Number(first.toString().trim());
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const output = () => readFile(log, 'utf8').catch(() => '');
    try {
      await until(async () => /catalytic api is running/.test(await output()), 30_000);
      parent.kill('SIGKILL');
      await until(async () => !alive(), 15_000);
      const lines = (await output()).trim().split('\n');
      expect(lines.join('\n')).toMatch(/parent process exited: shutting down/);
      expect(lines.at(-1)).toMatch(/catalytic api stopped/);
    } finally {
      parent.kill('SIGKILL');
      if (alive()) process.kill(pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says in one line which setting to change when its port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const proc = spawnCatalytic(['api'], { ...env.env, HOST: '127.0.0.1', PORT: String(port) });
      expect(await proc.exited).toBe(69);
      const lines = proc.output().trim().split('\n');
      expect(lines.at(-1)).toBe(`catalytic: port ${port} on 127.0.0.1 is already in use; stop what uses it or set PORT to a free port`);
      expect(proc.output()).not.toMatch(/ at .*\.ts:\d+/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('logs one line per request on a terminal (pretty logs)', async () => {
    const proc = spawnCatalytic(['api'], { ...env.env, LOG_PRETTY: 'true' });
    const started = await proc.waitForLine(/catalytic api is running/);
    const url = /at (http:\/\/\S+)/.exec(started)?.[1];
    expect(url).toBeDefined();
    const before = proc.output().length;
    expect((await fetch(`${url}/live`)).status).toBe(200);
    await proc.waitForLine(/GET \/live 200/);
    const lines = proc.output().slice(before).trim().split('\n');
    expect(lines).toHaveLength(1);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('answers GET / with its name, version and where to start', async () => {
    const proc = spawnCatalytic(['api'], env.env);
    const line = await proc.waitForLine(/catalytic api is running/);
    const url = (JSON.parse(line) as { api: string }).api;
    const res = await fetch(`${url}/`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { name: string; version: string; links: Record<string, string> };
    expect(body.name).toBe('catalytic');
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect((await fetch(`${url}${body.links.docs}`)).status).toBe(200);
    expect((await fetch(`${url}${body.links.health}`)).status).toBe(200);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('says in one line that PostgreSQL does not answer, and how to start it', async () => {
    const proc = spawnCatalytic(['all'], { ...env.env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/catalytic' });
    expect(await proc.exited).toBe(69);
    const lines = proc.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^catalytic: PostgreSQL does not answer at 127\.0\.0\.1:1 .*docker compose .* up -d postgres/);
  });

  it('says in one line that Redis does not answer, and how to start it', async () => {
    const proc = spawnCatalytic(['worker'], { ...env.env, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(await proc.exited).toBe(69);
    const lines = proc.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^catalytic: Redis does not answer at 127\.0\.0\.1:1 .*redis-server/);
  });
});
