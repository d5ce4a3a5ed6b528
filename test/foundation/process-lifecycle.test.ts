import { describe, expect, it } from 'vitest';
import { useTestEnvironment } from '../support/context.ts';
import { spawnCatalytic } from '../support/processes.ts';

const env = useTestEnvironment({ LOG_LEVEL: 'info' });

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

  it('exits 0 on SIGINT too', async () => {
    const proc = spawnCatalytic(['api'], env.env);
    await proc.waitForLine(/catalytic api is running/);
    proc.child.kill('SIGINT');
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
