/**
 * `POST /api/batches` when no database connection is to be had, on the real API and PostgreSQL:
 * the API logs in as its own role (a NOBYPASSRLS member of catalytic_app, as in production)
 * through a loopback proxy in front of the machine's PostgreSQL. Each fault is what a loaded
 * machine does to a new pooled connection — PostgreSQL too slow to accept it within the connect
 * timeout (the proxy holds it: node-postgres's `timeout expired`), PostgreSQL refusing it (the
 * role's connection limit: `too many connections`, 53300, as `max_connections` answers) — or the
 * connection lost in the middle of the batch's transaction. Each answers a 503 problem+json with
 * Retry-After, not a 500; nothing of the batch is written; and a retry with the same
 * Idempotency-Key then makes the batch exactly once.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiDeps } from '../../api/deps.ts';
import { ApiServer } from '../../api/server.ts';
import { APP_ROLE } from '../../shared/db.ts';
import { usageDay, USAGE_METRICS } from '../../shared/usage.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';

/** A TCP proxy to PostgreSQL that, while stalled, accepts connections and never forwards them. */
class StallingProxy {
  stalled = false;
  port = 0;
  private readonly held = new Set<Socket>();
  private readonly open = new Set<Socket>();
  private server: Server | undefined;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      client.on('error', () => undefined);
      this.open.add(client);
      client.on('close', () => this.open.delete(client));
      if (this.stalled) return void this.held.add(client);
      const upstream = connect(this.target.port, this.target.host);
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server?.address() as { port: number }).port;
  }

  /** Forwards new connections again; the held ones are closed. */
  release(): void {
    this.stalled = false;
    for (const socket of this.held) socket.destroy();
    this.held.clear();
  }

  async close(): Promise<void> {
    this.release();
    for (const socket of this.open) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const env = useTestEnvironment();
const role = `catalytic_t_api_${randomBytes(4).toString('hex')}`;
let proxy: StallingProxy;
let server: ApiServer;
let apiUrl = '';
let tenant: TestTenant;

const admin = async (sql: string, values: unknown[] = []) => {
  const client = new pg.Client({ connectionString: env.env.DATABASE_URL });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
};

beforeAll(async () => {
  await admin(`create role ${pg.escapeIdentifier(role)} login nobypassrls in role ${APP_ROLE}`);
  const owner = new URL(env.env.DATABASE_URL as string);
  proxy = new StallingProxy({ host: owner.hostname, port: Number(owner.port || 5432) });
  await proxy.start();
  const viaProxy = new URL(owner);
  viaProxy.username = role;
  viaProxy.password = '';
  viaProxy.port = String(proxy.port);
  const deps = createApiDeps(env.runtime({ DATABASE_URL: viaProxy.toString(), DATABASE_OWNER_URL: owner.toString(), DATABASE_POOL_MAX: '4' }));
  server = new ApiServer(deps);
  await server.start();
  apiUrl = `http://127.0.0.1:${server.port}`;
  tenant = await createTestTenant(env.db, { plan: 'professional' });
});

afterAll(async () => {
  await server?.close();
  await proxy?.close();
  await admin(`drop role if exists ${pg.escapeIdentifier(role)}`);
});

const batch = (size: number) => ({
  lattice: { shape: [8, 8] },
  defaults: { type: 'shortest_path', params: { start: [0, 0] } },
  jobs: Array.from({ length: size }, (_, i) => ({ params: { end: [7, i % 8] } })),
});

const post = (body: unknown, key: string) =>
  fetch(`${apiUrl}/api/batches`, { method: 'POST', headers: { ...tenant.headers, 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(body) });

const rowsOfTenant = async () => {
  const [batches] = (await env.db('batches').where({ tenant_id: tenant.tenantId }).count({ n: '*' })) as Array<{ n: string }>;
  const [jobs] = (await env.db('jobs').where({ tenant_id: tenant.tenantId }).count({ n: '*' })) as Array<{ n: string }>;
  return { batches: Number(batches?.n), jobs: Number(jobs?.n) };
};

/**
 * Closes the API's pooled connections from the server's side, so its next query needs a new
 * connection: returns once none is left and the pool has seen them end.
 */
async function dropApiConnections(): Promise<void> {
  await admin(`select pg_terminate_backend(pid) from pg_stat_activity where usename = $1`, [role]);
  for (let i = 0; i < 100; i++) {
    const { rows } = await admin(`select count(*)::int as n from pg_stat_activity where usename = $1`, [role]);
    if (rows[0].n === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 200));
}

/** The 503 of an overloaded or unreachable database, as problem+json with Retry-After. */
async function expectUnavailable(res: Response): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(503);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(JSON.parse(text)).toMatchObject({ status: 503, code: 'service_unavailable', type: '/problems/service_unavailable', instance: '/api/batches' });
}

/** A retry with the key makes the batch once; the next one replays it. */
async function expectRetryMakesItOnce(key: string, size: number, before: { batches: number; jobs: number }): Promise<void> {
  const made = await post(batch(size), key);
  expect(made.status, await made.clone().text()).toBe(202);
  expect(made.headers.get('idempotent-replayed')).toBeNull();
  const created = (await made.json()) as { id: string; total: number; counts: Record<string, number>; job_ids: string[] };
  expect(created).toMatchObject({ total: size, counts: { queued: size, running: 0, completed: 0 } });
  expect(created.job_ids).toHaveLength(size);
  expect(await rowsOfTenant()).toEqual({ batches: before.batches + 1, jobs: before.jobs + size });
  const again = await post(batch(size), key);
  expect(again.status).toBe(202);
  expect(again.headers.get('idempotent-replayed')).toBe('true');
  expect(((await again.json()) as { id: string }).id).toBe(created.id);
  expect(await rowsOfTenant()).toEqual({ batches: before.batches + 1, jobs: before.jobs + size });
}

describe('POST /api/batches without a database connection to be had', () => {
  it('answers 503 when PostgreSQL does not accept a connection within the connect timeout, writes nothing, and a retry makes the batch once', async () => {
    // Authentication, plan and quota are read once and cached: the batch is what needs the database next.
    expect((await fetch(`${apiUrl}/api/batches`, { headers: tenant.headers })).status).toBe(200);
    const before = await rowsOfTenant();
    // Stalled first: a connection the API makes in the background meanwhile is held too.
    proxy.stalled = true;
    const key = `stalled-${randomBytes(4).toString('hex')}`;
    try {
      await dropApiConnections();
      await expectUnavailable(await post(batch(40), key));
    } finally {
      proxy.release();
    }
    expect(await rowsOfTenant()).toEqual(before);
    await expectRetryMakesItOnce(key, 40, before);
  });

  it('answers 503 when PostgreSQL refuses the connection (too many connections), writes nothing, and a retry makes the batch once', async () => {
    expect((await fetch(`${apiUrl}/api/batches`, { headers: tenant.headers })).status).toBe(200);
    const before = await rowsOfTenant();
    await admin(`alter role ${pg.escapeIdentifier(role)} connection limit 0`);
    const key = `refused-${randomBytes(4).toString('hex')}`;
    try {
      await dropApiConnections();
      await expectUnavailable(await post(batch(40), key));
    } finally {
      await admin(`alter role ${pg.escapeIdentifier(role)} connection limit -1`);
    }
    expect(await rowsOfTenant()).toEqual(before);
    await expectRetryMakesItOnce(key, 40, before);
  });

  it('answers 503 when the connection is lost after the batch row is written, keeps nothing of it, and a retry makes the batch once', async () => {
    const before = await rowsOfTenant();
    // Hold the row the batch's job count goes to, so its transaction waits there, the batch row inserted.
    const metric = `${USAGE_METRICS.jobsPrefix}shortest_path`;
    await env.db.raw(`insert into usage_counters (tenant_id, day, metric, value) values (?, ?, ?, 0) on conflict do nothing`, [tenant.tenantId, usageDay(), metric]);
    const holder = new pg.Client({ connectionString: env.env.DATABASE_URL });
    await holder.connect();
    const key = `lost-${randomBytes(4).toString('hex')}`;
    try {
      await holder.query('begin');
      await holder.query(`select 1 from usage_counters where tenant_id = $1 and day = $2 and metric = $3 for update`, [tenant.tenantId, usageDay(), metric]);
      const answer = post(batch(40), key);
      let waiting: number | undefined;
      for (let i = 0; i < 400 && waiting === undefined; i++) {
        const { rows } = await admin(`select pid from pg_stat_activity where usename = $1 and wait_event_type = 'Lock'`, [role]);
        waiting = rows[0]?.pid as number | undefined;
        if (waiting === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      expect(waiting, 'the batch transaction never waited on the held row').toBeDefined();
      // Inside its transaction the batch row is there; the connection now goes away.
      await admin('select pg_terminate_backend($1)', [waiting]);
      await expectUnavailable(await answer);
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.end();
    }
    expect(await rowsOfTenant()).toEqual(before);
    await expectRetryMakesItOnce(key, 40, before);
  });
});
