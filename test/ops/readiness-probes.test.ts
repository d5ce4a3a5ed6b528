/**
 * Probes: /live answers while the process is up; /ready is 503 while PostgreSQL does not answer
 * and 200 again once it does; /health reports each dependency with its state and latency. Same
 * for the worker/scheduler probe server on METRICS_PORT.
 *
 * The machine's PostgreSQL is shared with other tests, so it is never stopped: "stopping" it is
 * closing a TCP relay in front of it (dropping every connection), and a runtime pointed at a port
 * where nothing listens stands for one that never answered.
 */
import { createServer, type Server, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, databaseUrl, dropDatabase, freshDatabaseName, SERVER_URL } from '../support/postgres.ts';
import { ProbeServer } from '../../shared/probe-server.ts';
import { VERSION } from '../../shared/version.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';

// Port 1 on loopback: nothing listens, so connections are refused at once.
const UNREACHABLE_POSTGRES = 'postgres://postgres@127.0.0.1:1/catalytic';

/** A TCP relay to PostgreSQL that can be stopped (every connection cut) and started again on its port. */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const postgres = new URL(SERVER_URL);
const relay = new Relay({ host: postgres.hostname, port: Number(postgres.port || 5432) });
beforeAll(() => relay.start());
afterAll(() => relay.stop());

const env = useTestEnvironment();
const good = useTestApi(env);
const broken = useTestApi(env, { DATABASE_URL: UNREACHABLE_POSTGRES });

interface Readiness {
  status: string;
  dependencies: Record<string, { status: string; latency_ms?: number; error?: string }>;
}

describe('API probes', () => {
  it('/live answers whatever the dependencies', async () => {
    for (const api of [good, broken]) {
      const response = await api.request('/live');
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok' });
    }
  });

  it('/ready is 503 while PostgreSQL does not answer, and says which dependency is down', async () => {
    const response = await broken.request('/ready');
    expect(response.status).toBe(503);
    const body = (await response.json()) as Readiness;
    expect(body.status).toBe('unavailable');
    expect(body.dependencies.postgres?.status).toBe('down');
    expect(body.dependencies.postgres?.error).toBeTruthy();
    expect(body.dependencies.redis?.status).toBe('up');
  });

  it('/ready is 200 when PostgreSQL and Redis answer and migrations are current', async () => {
    const response = await good.request('/ready');
    expect(response.status).toBe(200);
    const body = (await response.json()) as Readiness;
    expect(body.status).toBe('ready');
    for (const name of ['postgres', 'redis', 'migrations']) expect(body.dependencies[name]?.status, name).toBe('up');
  });

  it('/health reports version, uptime and each dependency with its latency, 200 even while degraded', async () => {
    const healthy = await good.request('/health');
    expect(healthy.status).toBe(200);
    const report = (await healthy.json()) as Readiness & { version: string; uptime_s: number };
    expect(report).toMatchObject({ status: 'ok', version: VERSION });
    expect(report.uptime_s).toBeGreaterThanOrEqual(0);
    for (const name of ['postgres', 'redis', 'migrations']) {
      expect(report.dependencies[name]?.latency_ms, name).toBeGreaterThanOrEqual(0);
    }
    const degraded = await broken.request('/health');
    expect(degraded.status).toBe(200);
    expect(((await degraded.json()) as Readiness).status).toBe('degraded');
  });
});

describe('readiness follows PostgreSQL', () => {
  it('goes 503 when PostgreSQL stops answering and back to 200 when it returns', async () => {
    const url = new URL(env.env.DATABASE_URL as string);
    url.port = String(relay.port);
    const server = new ProbeServer(env.runtime({ DATABASE_URL: url.toString() }));
    await server.start();
    const ready = async () => (await fetch(`http://127.0.0.1:${server.port}/ready`)).status;
    try {
      expect(await ready()).toBe(200);
      await relay.stop();
      expect(await ready()).toBe(503);
      await relay.start();
      expect(await ready()).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('readiness follows migrations', () => {
  it('is 503 with the pending migrations listed while the schema is behind', async () => {
    const name = freshDatabaseName('unmigrated');
    await createDatabase(name);
    const server = new ProbeServer(env.runtime({ DATABASE_URL: databaseUrl(name) }));
    try {
      await server.start();
      const response = await fetch(`http://127.0.0.1:${server.port}/ready`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { dependencies: Record<string, { status: string; pending?: string[] }> };
      expect(body.dependencies.postgres?.status).toBe('up');
      expect(body.dependencies.migrations?.status).toBe('down');
      expect(body.dependencies.migrations?.pending?.[0]).toBe('0001_plans');
    } finally {
      await server.close();
      await dropDatabase(name);
    }
  });
});

describe('worker and scheduler probe server', () => {
  it('answers /live, /ready (503 then 200) and /metrics on its own port', async () => {
    const down = new ProbeServer(env.runtime({ DATABASE_URL: UNREACHABLE_POSTGRES }));
    const up = new ProbeServer(env.runtime());
    await Promise.all([down.start(), up.start()]);
    try {
      const base = (p: ProbeServer) => `http://127.0.0.1:${p.port}`;
      expect((await fetch(`${base(down)}/live`)).status).toBe(200);
      expect((await fetch(`${base(down)}/ready`)).status).toBe(503);
      expect((await fetch(`${base(up)}/ready`)).status).toBe(200);
      const metrics = await fetch(`${base(up)}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^catalytic_process_cpu_seconds_total /m);
      expect((await fetch(`${base(up)}/nope`)).status).toBe(404);
    } finally {
      await Promise.all([down.close(), up.close()]);
    }
  });
});
