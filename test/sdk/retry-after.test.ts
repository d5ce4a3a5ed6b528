/**
 * The SDK retries 429 and 503 answers, waiting as long as Retry-After says (seconds or an HTTP
 * date), backs off exponentially without it, and gives up (with the typed error) after its retries
 * or when the server asks for a longer wait than the client accepts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalyticApiError, CatalyticConnectionError, HttpClient, parseRetryAfter, retryDelay } from '../../client/index.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

let server: Server;
let baseUrl: string;
let handler: Handler = () => undefined;
const hits: Array<{ at: number; method: string; url: string; authorization: string | undefined }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push({ at: Date.now(), method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    req.on('end', () => handler(req, res, hits.length));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function problem(res: ServerResponse, status: number, code: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/problem+json', 'x-request-id': 'req-1', ...headers });
  res.end(JSON.stringify({ type: `/problems/${code}`, title: 'Too many requests', status, code, detail: `${code} detail` }));
}

function ok(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

describe('retry on 429/503', () => {
  it('waits the Retry-After seconds, then succeeds', async () => {
    hits.length = 0;
    handler = (_req, res, hit) => (hit === 1 ? problem(res, 429, 'rate_limited', { 'retry-after': '1' }) : ok(res, { fine: true }));
    const client = new HttpClient({ baseUrl, apiKey: 'ck_test' });
    const started = Date.now();
    const { body } = await client.request<{ fine: boolean }>('GET', '/api/thing');
    expect(body).toEqual({ fine: true });
    expect(hits).toHaveLength(2);
    const gap = hits[1]!.at - hits[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(2500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(hits[1]!.authorization).toBe('Bearer ck_test');
  });

  it('honours Retry-After given as an HTTP date', async () => {
    hits.length = 0;
    handler = (_req, res, hit) =>
      hit === 1
        ? problem(res, 503, 'service_unavailable', { 'retry-after': new Date(Date.now() + 2000).toUTCString() })
        : ok(res, { fine: true });
    const client = new HttpClient({ baseUrl, apiKey: 'ck_test' });
    await client.request('GET', '/api/thing');
    expect(hits).toHaveLength(2);
    // An HTTP date has whole-second precision: the wait is between 1 and 2 seconds.
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('retries a POST on 429 (the server did not process it)', async () => {
    hits.length = 0;
    handler = (_req, res, hit) => (hit === 1 ? problem(res, 429, 'rate_limited', { 'retry-after': '0' }) : ok(res, { id: 'j1' }));
    const client = new HttpClient({ baseUrl, apiKey: 'ck_test' });
    const { body } = await client.request('POST', '/api/jobs', { body: { type: 'components' } });
    expect(body).toEqual({ id: 'j1' });
    expect(hits.map((h) => h.method)).toEqual(['POST', 'POST']);
  });

  it('gives up after its retries with a typed error carrying the problem fields', async () => {
    hits.length = 0;
    handler = (_req, res) => problem(res, 429, 'rate_limited', { 'retry-after': '0' });
    const client = new HttpClient({ baseUrl, apiKey: 'ck_test', retry: { retries: 2 } });
    const error = await client.request('GET', '/api/thing').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CatalyticApiError);
    const apiError = error as CatalyticApiError;
    expect(apiError).toMatchObject({
      status: 429,
      code: 'rate_limited',
      type: '/problems/rate_limited',
      title: 'Too many requests',
      detail: 'rate_limited detail',
      requestId: 'req-1',
      retryAfterMs: 0,
      request: 'GET /api/thing',
    });
    expect(hits).toHaveLength(3);
  });

  it('does not wait out a Retry-After longer than maxDelayMs', async () => {
    hits.length = 0;
    handler = (_req, res) => problem(res, 429, 'quota_exceeded', { 'retry-after': '86400' });
    const client = new HttpClient({ baseUrl, apiKey: 'ck_test', retry: { maxDelayMs: 5000 } });
    const started = Date.now();
    const error = (await client.request('GET', '/api/thing').catch((err: unknown) => err)) as CatalyticApiError;
    expect(error.code).toBe('quota_exceeded');
    expect(error.retryAfterMs).toBe(86_400_000);
    expect(hits).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('backs off exponentially when there is no Retry-After', async () => {
    hits.length = 0;
    handler = (_req, res, hit) => (hit <= 2 ? problem(res, 503, 'service_unavailable') : ok(res, {}));
    const client = new HttpClient({ baseUrl, apiKey: 'ck_test', retry: { baseDelayMs: 200 } });
    await client.request('GET', '/api/thing');
    expect(hits).toHaveLength(3);
    // Jittered between half and all of 200 ms, then of 400 ms.
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(90);
    expect(hits[2]!.at - hits[1]!.at).toBeGreaterThanOrEqual(190);
  });

  it('does not retry other errors', async () => {
    hits.length = 0;
    handler = (_req, res) => problem(res, 404, 'not_found');
    const client = new HttpClient({ baseUrl, apiKey: 'ck_test' });
    await expect(client.request('GET', '/api/thing')).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect(hits).toHaveLength(1);
  });

  it('stops waiting when the signal aborts', async () => {
    hits.length = 0;
    handler = (_req, res) => problem(res, 429, 'rate_limited', { 'retry-after': '10' });
    const client = new HttpClient({ baseUrl, apiKey: 'ck_test' });
    const started = Date.now();
    await expect(client.request('GET', '/api/thing', { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('turns a non-JSON error page into a typed error', async () => {
    handler = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>Bad gateway</html>');
    };
    const client = new HttpClient({ baseUrl, apiKey: 'ck_test' });
    await expect(client.request('GET', '/api/thing')).rejects.toMatchObject({ status: 502, code: 'internal' });
  });

  it('reports an unreachable API as a connection error after retrying idempotent requests', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const client = new HttpClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'ck_test', retry: { retries: 1, baseDelayMs: 10 } });
    const error = await client.request('GET', '/api/thing').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CatalyticConnectionError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });
});

describe('parseRetryAfter and retryDelay', () => {
  it('reads seconds and HTTP dates, ignoring junk', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('caps backoff and counts attempts', () => {
    const options = { retries: 3, baseDelayMs: 1000, maxDelayMs: 3000 };
    expect(retryDelay(1, undefined, options, () => 1)).toBe(1000);
    expect(retryDelay(2, undefined, options, () => 1)).toBe(2000);
    expect(retryDelay(3, undefined, options, () => 1)).toBe(3000);
    expect(retryDelay(4, undefined, options, () => 1)).toBeUndefined();
    expect(retryDelay(1, 2500, options)).toBe(2500);
    expect(retryDelay(1, 3500, options)).toBeUndefined();
  });
});
