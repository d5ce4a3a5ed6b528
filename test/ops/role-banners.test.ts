/**
 * Real role processes: the API's start-up line says where the docs and the queue board are, and
 * the scheduler reports queue depth on its own metrics port.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useTestEnvironment } from '../support/context.ts';
import { spawnCatalytic } from '../support/processes.ts';
import { parsePrometheusText, sampleValue } from './prometheus-text.ts';

const env = useTestEnvironment();

/** A port free right now (the probe server of a role does not report the one it got). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('role processes', () => {
  it('the API names its docs and queue board URLs when it starts', async () => {
    const api = spawnCatalytic(['api'], { ...env.env, LOG_LEVEL: 'info', ADMIN_USER: 'ops', ADMIN_PASSWORD: 'banner-secret' });
    const line = await api.waitForLine(/is running at/);
    const url = /is running at (http:\/\/\S+)/.exec(line)?.[1] as string;
    expect(line).toContain(`${url}/docs`);
    expect(line).toContain(`${url}/admin/queues`);
    expect((await fetch(`${url}/docs`)).status).toBe(200);
    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
  });

  it('in development without operator settings, the queue board opens with a password generated for the run', async () => {
    const api = spawnCatalytic(['api'], { ...env.env, LOG_LEVEL: 'info', NODE_ENV: 'development' });
    const line = await api.waitForLine(/^Queue board /);
    const [, board, user, password] = /^Queue board (\S+): user (\S+), password (\S+) \(generated for this run/.exec(line) ?? [];
    expect(board).toMatch(/\/admin\/queues$/);
    expect(password!.length).toBeGreaterThanOrEqual(20);
    expect((await fetch(board!)).status).toBe(401);
    const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    expect((await fetch(board!, { headers: { authorization: basic } })).status).toBe(200);
    // Only the terminal line carries it: no log line does.
    expect(api.output().split('\n').filter((l) => l.includes(password!))).toEqual([line]);
    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
  });

  it('the scheduler serves queue depth by plan on METRICS_PORT', async () => {
    const port = await freePort();
    const scheduler = spawnCatalytic(['scheduler'], { ...env.env, LOG_LEVEL: 'info', METRICS_PORT: String(port) });
    await scheduler.waitForLine(/catalytic scheduler is running/);
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    const exposition = parsePrometheusText(await response.text());
    for (const plan of ['free', 'starter', 'professional', 'enterprise']) {
      expect(sampleValue(exposition, 'catalytic_jobs_waiting', { plan }), plan).toBe(0);
    }
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    scheduler.child.kill('SIGTERM');
    expect(await scheduler.exited).toBe(0);
  });
});
