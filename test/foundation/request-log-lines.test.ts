/**
 * The API's request log lines name their request, tenant and user from the request itself, and
 * serving requests never enters an AsyncLocalStorage: on Node 20 a storage entered once turns on
 * promise hooks for every promise of the process (docs/performance.md › The API without
 * AsyncLocalStorage).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiDeps } from '../../api/deps.ts';
import { ApiServer } from '../../api/server.ts';
import { parseConfig } from '../../shared/config.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();
const lines: Array<Record<string, unknown>> = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});
const entered = vi.spyOn(AsyncLocalStorage.prototype, 'run');
const enteredWith = vi.spyOn(AsyncLocalStorage.prototype, 'enterWith');

let server: ApiServer;
let base: string;
let tenant: TestTenant;

beforeAll(async () => {
  const config = parseConfig({ ...env.env, LOG_LEVEL: 'info' });
  const runtime = createRuntime(config, { name: 'test', logger: pino({ level: 'info' }, sink) });
  server = new ApiServer(createApiDeps(runtime));
  await server.start();
  base = `http://127.0.0.1:${server.port}`;
  tenant = await createTestTenant(env.db);
});
afterAll(() => server?.close());

const lineOf = (requestId: string) => lines.find((line) => line['requestId'] === requestId);

describe('request log lines', () => {
  it('name the request id, tenant and user on the access log line', async () => {
    const res = await fetch(`${base}/api/jobs?limit=1`, { headers: { ...tenant.headers, 'x-request-id': 'req-log-1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-log-1');
    expect(lineOf('req-log-1')).toMatchObject({ requestId: 'req-log-1', tenantId: tenant.tenantId, userId: tenant.userId, method: 'GET', path: '/api/jobs', status: 200 });
  });

  it('name the request id alone before anyone is authenticated', async () => {
    const res = await fetch(`${base}/api/jobs`, { headers: { 'x-request-id': 'req-log-2' } });
    expect(res.status).toBe(401);
    const line = lineOf('req-log-2');
    expect(line).toMatchObject({ requestId: 'req-log-2', status: 401 });
    expect(line).not.toHaveProperty('tenantId');
  });
});

describe('serving requests', () => {
  it('submits, polls and lists without entering an AsyncLocalStorage', { timeout: 30_000 }, async () => {
    entered.mockClear();
    enteredWith.mockClear();
    const submitted = await fetch(`${base}/api/jobs`, {
      method: 'POST',
      headers: { ...tenant.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'shortest_path', lattice: { shape: [8, 8] }, params: { start: [0, 0], end: [7, 7] } }),
    });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    expect((await fetch(`${base}/api/jobs/${id}`, { headers: tenant.headers })).status).toBe(200);
    expect((await fetch(`${base}/api/jobs?limit=5`, { headers: tenant.headers })).status).toBe(200);
    expect(entered).not.toHaveBeenCalled();
    expect(enteredWith).not.toHaveBeenCalled();
  });
});
