/**
 * What an unconfirmed address may not do, over real HTTP with a real SMTP server: ask for a paid
 * plan (a sign-up's paid plan waits for the address; a later upgrade is 403 `email_unverified`
 * saying how to confirm) and add webhook endpoints (with a token or with an API key its user
 * made). The CLI's `email verify` follows the mailed link, after which both work; the CLI and the
 * SDK then read and change the notification choices.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalyticClient } from '../../client/index.ts';
import { runCli, STRONG_PASSWORD } from '../cli/stack.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { useTestMail } from '../support/mail.ts';

const env = useTestEnvironment({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
const api = useTestApi(env);
const mail = useTestMail(env, api);
let home: string;
const cli = (args: string[], input?: string) => runCli(args, { CATALYTIC_URL: api.url, CATALYTIC_CONFIG: join(home, 'credentials.json'), HOME: home }, { input });

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'catalytic-gates-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

async function expectUnverified(res: Response): Promise<void> {
  expect(res.status).toBe(403);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = (await res.json()) as { code: string; detail: string };
  expect(problem.code).toBe('email_unverified');
  expect(problem.detail).toMatch(/follow the link we mailed you \(POST \/api\/me\/email\/verify sends a new one\)/);
}

describe('an unconfirmed address', () => {
  it('asks for no paid plan and adds no webhook endpoint until the mailed link is followed', async () => {
    const email = `gates-${randomUUID().slice(0, 8)}@example.test`;
    const registered = await cli(
      ['register', '--company', 'Gate Co', '--email', email, '--first-name', 'Ada', '--last-name', 'Owner', '--plan', 'starter', '--password-stdin'],
      `${STRONG_PASSWORD}\n`,
    );
    expect(registered.code, registered.stderr).toBe(0);
    expect(registered.stdout).toMatch(/requested\s+starter: asked for once you confirm your address/);
    const login = await api.request('/auth/login', { body: { email, password: STRONG_PASSWORD } });
    const headers = { authorization: `Bearer ${((await login.json()) as { access_token: string }).access_token}` };
    const { tenant } = (await (await api.request('/api/me', { headers })).json()) as { tenant: { id: string } };
    const tenantId = tenant.id;
    const key = (await (await api.request('/api/api-keys', { body: { name: 'ci', scopes: ['webhooks:write', 'webhooks:read'] }, headers })).json()) as { key: string };

    // The sign-up's paid plan is not yet a request; an upgrade and endpoints are refused, and write nothing.
    expect(await (await api.request('/api/subscription', { headers })).json()).toMatchObject({ plan_code: 'free', pending_request: null });
    await expectUnverified(await api.request('/api/subscription', { body: { plan_code: 'professional' }, headers }));
    const endpoint = { url: 'http://127.0.0.1:9/hook', events: ['job.completed'] };
    await expectUnverified(await api.request('/api/webhooks', { body: endpoint, headers }));
    await expectUnverified(await api.request('/api/webhooks', { body: endpoint, headers: { authorization: `Bearer ${key.key}` } }));
    expect(await env.db('plan_requests').where({ tenant_id: tenantId }).count('* as n')).toEqual([{ n: 0 }]);
    expect(await env.db('webhooks').where({ tenant_id: tenantId }).count('* as n')).toEqual([{ n: 0 }]);
    // What needs no decision is not gated: staying on free.
    expect((await api.request('/api/subscription', { body: { plan_code: 'free' }, headers })).status).toBe(200);

    // The CLI follows the mailed link; the sign-up's plan becomes a pending request.
    const received = await mail.smtp.waitFor(email, (m) => m.subject === 'Confirm your email address for Catalytic');
    expect((await cli(['email', 'verify', 'not-a-link'])).code).toBe(2);
    const verified = await cli(['email', 'verify', received.links[0] ?? '']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(await (await api.request('/api/subscription', { headers })).json()).toMatchObject({
      plan_code: 'free',
      pending_request: { from_plan: 'free', to_plan: 'starter', status: 'pending' },
    });
    expect((await api.request('/api/webhooks', { body: endpoint, headers: { authorization: `Bearer ${key.key}` } })).status).toBe(201);
    expect((await api.request('/api/subscription', { body: { plan_code: 'professional' }, headers })).status).toBe(202);

    // Notification choices through the CLI and the SDK.
    const set = await cli(['notifications', 'set', '--quotas', 'off', '--webhooks', 'on', '--json']);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ email, settings: { plan_requests: true, webhooks: true, quotas: false } });
    expect((await cli(['notifications', 'set', '--quotas', 'maybe'])).code).toBe(2);
    expect((await cli(['notifications', 'set'])).code).toBe(2);
    const shown = await cli(['notifications', 'show']);
    expect(shown.stdout).toMatch(/quotas\s+off \(default on\)/);
    const sdk = new CatalyticClient({ baseUrl: api.url, apiKey: key.key });
    expect((await sdk.notifications.get()).settings).toEqual({ plan_requests: true, webhooks: true, quotas: false });
    expect((await sdk.notifications.set({ quotas: true, plan_requests: false })).settings).toEqual({ plan_requests: false, webhooks: true, quotas: true });
  });
});
