import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiDeps } from '../../api/deps.ts';
import { ApiServer } from '../../api/server.ts';
import { useTestEnvironment } from '../support/context.ts';

const env = useTestEnvironment({ BODY_LIMIT_BYTES: '2048' });
let server: ApiServer;
let base: string;

beforeAll(async () => {
  server = new ApiServer(createApiDeps(env.runtime()));
  await server.start();
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server?.close());

async function problem(res: Response): Promise<Record<string, unknown>> {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await res.json()) as Record<string, unknown>;
}

describe('HTTP errors are RFC 9457 problem documents', () => {
  it('answers an unknown route with 404', async () => {
    const res = await fetch(`${base}/nowhere`);
    expect(res.status).toBe(404);
    expect(await problem(res)).toMatchObject({ type: '/problems/not_found', status: 404, code: 'not_found', instance: '/nowhere' });
  });

  it('answers malformed JSON with 400', async () => {
    // A route that takes a body reads it; others never parse one.
    const res = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(res.status).toBe(400);
    expect(await problem(res)).toMatchObject({ code: 'invalid_json' });
  });

  it('answers a body over the limit with 413', async () => {
    const res = await fetch(`${base}/live`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(4096) }),
    });
    expect(res.status).toBe(413);
    expect(await problem(res)).toMatchObject({ code: 'payload_too_large' });
  });

  it('answers a non-JSON body with 415', async () => {
    const res = await fetch(`${base}/live`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    expect(res.status).toBe(415);
    expect(await problem(res)).toMatchObject({ code: 'unsupported_media_type' });
  });

  it('answers a wrong method with 405', async () => {
    const res = await fetch(`${base}/live`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(await problem(res)).toMatchObject({ code: 'method_not_allowed' });
  });

  it('documents each problem type at its URI', async () => {
    const res = await fetch(`${base}/problems/payload_too_large`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 413, title: 'The body is too large' });
  });

  it('echoes a sane request id and replaces an unsafe one', async () => {
    expect((await fetch(`${base}/live`, { headers: { 'x-request-id': 'abc-123' } })).headers.get('x-request-id')).toBe('abc-123');
    const replaced = (await fetch(`${base}/live`, { headers: { 'x-request-id': 'bad id<script>' } })).headers.get('x-request-id');
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reports readiness from PostgreSQL, Redis and migrations', async () => {
    const res = await fetch(`${base}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', dependencies: { postgres: { status: 'up' }, redis: { status: 'up' }, migrations: { status: 'up' } } });
  });
});
