/**
 * An address that keeps failing authentication is capped: past RATE_LIMIT_UNAUTHENTICATED_PER_SECOND
 * 401s in a second, its requests without credentials get 429 with Retry-After, before their body
 * is read; requests with credentials from the same address, and other addresses, are not refused.
 */
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';

const CAP = 5;
// With TRUST_PROXY, X-Forwarded-For picks the client address per test.
const env = useTestEnvironment({ TRUST_PROXY: 'true' });
const api = useTestApi(env, { RATE_LIMIT_UNAUTHENTICATED_PER_SECOND: String(CAP) });
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTestTenant(env.db);
});

const from = (ip: string) => ({ 'x-forwarded-for': ip });

/**
 * Anonymous requests from `ip`, in concurrent bursts of twice the cap (so that a slow machine
 * still fits the cap's worth within one second), until one is refused; the statuses seen and the
 * first refusal.
 */
async function anonymousUntilRefused(ip: string, bursts = 20): Promise<{ statuses: number[]; refused: Response | undefined }> {
  const statuses: number[] = [];
  for (let i = 0; i < bursts; i++) {
    const responses = await Promise.all(Array.from({ length: 2 * CAP }, () => api.request('/api/jobs', { headers: from(ip) })));
    statuses.push(...responses.map((r) => r.status));
    const refused = responses.find((r) => r.status === 429);
    for (const r of responses) if (r !== refused) await r.arrayBuffer();
    if (refused) return { statuses, refused };
  }
  return { statuses, refused: undefined };
}

/** Sends the head of an anonymous POST announcing `length` bytes and 1 KiB of them; resolves with the response's head and whether the server closed the socket. */
function postHeadOnly(ip: string, length: number): Promise<{ head: string; closed: boolean }> {
  const { port } = new URL(api.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ head: answer, closed: false });
    }, 5000);
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ head: answer.split('\r\n\r\n')[0] ?? '', closed: true });
    });
    const head = Object.entries({ host: '127.0.0.1', 'content-type': 'application/json', 'content-length': String(length), 'x-forwarded-for': ip })
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n');
    socket.write(`POST /api/jobs HTTP/1.1\r\n${head}\r\n\r\n${' '.repeat(1024)}`);
  });
}

describe('the cap on failing anonymous callers', () => {
  it('refuses an address past its 401s a second with 429 and Retry-After, as a problem', async () => {
    const { statuses, refused } = await anonymousUntilRefused('203.0.113.41');
    expect(refused, `statuses: ${statuses.join(',')}`).toBeDefined();
    // At least CAP 401s came first (more only when the window turned between them).
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(CAP);
    expect(Number(refused!.headers.get('retry-after'))).toBe(1);
    expect(refused!.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await refused!.json()).toMatchObject({ code: 'rate_limited', limit: 'unauthenticated_requests_per_ip', limit_value: CAP, window_s: 1 });
  });

  it('does not refuse credentials from the same address, nor anonymous calls from another', async () => {
    const ip = '203.0.113.42';
    const { refused } = await anonymousUntilRefused(ip);
    expect(refused).toBeDefined();
    const [mine, other] = await Promise.all([
      api.request('/api/jobs', { headers: { ...from(ip), ...tenant.headers } }),
      api.request('/api/jobs', { headers: from('198.51.100.43') }),
    ]);
    expect(mine.status).toBe(200);
    expect(other.status).toBe(401);
  });

  it('leaves sign-in and sign-up of a capped address to their own limits', async () => {
    const ip = '203.0.113.44';
    const { refused } = await anonymousUntilRefused(ip);
    expect(refused).toBeDefined();
    const [login, register, jobs] = await Promise.all([
      api.request('/auth/login', { body: { email: 'nobody@example.test' }, headers: from(ip) }),
      api.request('/api/tenants/register', { body: {}, headers: from(ip) }),
      api.request('/api/jobs', { headers: from(ip) }),
    ]);
    // Bad bodies: each route's own answer, not the cap's.
    expect(login.status).toBe(400);
    expect(register.status).toBe(400);
    expect(jobs.status).toBe(429);
  });

  it('answers a capped upload at once and closes the connection instead of reading its megabyte', async () => {
    const ip = '203.0.113.44';
    const { refused } = await anonymousUntilRefused(ip);
    expect(refused).toBeDefined();
    const outcome = await postHeadOnly(ip, 1024 * 1024);
    expect(outcome.head).toMatch(/^HTTP\/1\.1 429 /);
    expect(outcome.head).toMatch(/\r\nconnection: close/i);
    expect(outcome.closed).toBe(true);
  });

  it('lets the address be answered 401 again once the second has passed', async () => {
    const ip = '203.0.113.45';
    const { refused } = await anonymousUntilRefused(ip);
    expect(refused).toBeDefined();
    await new Promise((r) => setTimeout(r, 1100));
    const res = await api.request('/api/jobs', { headers: from(ip) });
    expect(res.status).toBe(401);
  });
});
