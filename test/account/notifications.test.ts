/**
 * Notifications, end to end: two real scheduler processes mail, through an SMTP server the test
 * starts, a plan request decided by an operator over HTTP, a webhook endpoint disabled after its
 * failures outlast WEBHOOK_DISABLE_AFTER_MS, and quotas at 80% and 100% — each to the owners and
 * to the users who opted in (`PATCH /api/me/notifications`), and each exactly once although both
 * processes run the notify and quota tasks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReceivedMail, type SmtpReceiver, startSmtpReceiver } from '../harness/smtp-receiver.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { IDENTITY_TEST_ENV, login, type RegisteredTenant, registerTenant } from '../support/identity.ts';
import { type CatalyticProcess, spawnCatalytic } from '../support/processes.ts';
import { usageDay } from '../../shared/usage.ts';
import { finishJobWithEvent, insertEndpoint, insertJob } from '../webhooks/fixtures.ts';
import { TestReceiver } from '../webhooks/receiver.ts';

const ADMIN_TOKEN = 'op-token-notify-5c1';
const env = useTestEnvironment({
  ...IDENTITY_TEST_ENV,
  ADMIN_TOKEN,
  BACKUP_CRON: 'off',
  NOTIFY_POLL_MS: '100',
  QUOTA_WATCH_EVERY_MS: '1000',
  WEBHOOK_RETRY_POLL_MS: '100',
  WEBHOOK_RETRY_SCHEDULE_MS: '100,100,100',
  WEBHOOK_DISABLE_AFTER_MS: '1000',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  MAIL_RETRY_BASE_MS: '100',
});
const api = useTestApi(env);

let smtp: SmtpReceiver;
const schedulers: CatalyticProcess[] = [];
let failing: TestReceiver;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  failing = await new TestReceiver({ respond: () => ({ status: 500 }) }).start();
  const settings = { ...env.env, LOG_LEVEL: 'info', SMTP_URL: smtp.url, PUBLIC_URL: api.url };
  schedulers.push(...[spawnCatalytic(['scheduler'], settings), spawnCatalytic(['scheduler'], settings)]);
  await Promise.all(schedulers.map((s) => s.waitForLine(/catalytic scheduler is running/, 50_000)));
});

afterAll(async () => {
  for (const s of schedulers) s.child.kill('SIGTERM');
  await Promise.all(schedulers.map((s) => s.exited));
  await failing?.close();
  await smtp?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Adds a user with `role` to the tenant (the owner's password) and signs them in. */
async function addUser(owner: RegisteredTenant, role: string, name: string): Promise<{ email: string; headers: { authorization: string } }> {
  const email = `${name}-${owner.tenantId.slice(0, 8)}@example.test`;
  const { password_hash } = await env.db('users').where({ id: owner.userId }).first('password_hash');
  await env.db('users').insert({ tenant_id: owner.tenantId, email, first_name: name, last_name: 'User', password_hash, role, email_verified_at: new Date() });
  return { email, headers: bearer((await login(api, email, owner.password)).access_token) };
}

async function setPreferences(headers: { authorization: string }, body: Record<string, unknown>): Promise<Response> {
  return api.request('/api/me/notifications', { method: 'PATCH', body, headers });
}

/**
 * Mails a test expects exactly once: each is awaited as it comes, and `noDuplicates` waits once,
 * after the last, long enough for any duplicate (several notify runs in each process) and checks
 * them all — one wait a test, not one a mail.
 */
function onlyOnce() {
  const expected: Array<{ to: string; match: (m: ReceivedMail) => boolean }> = [];
  return {
    onlyMail(to: string, match: (m: ReceivedMail) => boolean): Promise<ReceivedMail> {
      expected.push({ to, match });
      return smtp.waitFor(to, match, 20_000);
    },
    async noDuplicates(): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      for (const { to, match } of expected) expect(smtp.to(to).filter(match), to).toHaveLength(1);
    },
  };
}

describe('notification preferences', () => {
  it('default on for owners and off for the others; PATCH changes only what it names; bad input changes nothing', async () => {
    const owner = await registerTenant(api, { plan: 'free' });
    const member = await addUser(owner, 'member', 'mel');
    const ownerView = await (await api.request('/api/me/notifications', { headers: owner.headers })).json();
    expect(ownerView).toEqual({
      email: owner.email,
      settings: { plan_requests: true, webhooks: true, quotas: true },
      defaults: { plan_requests: true, webhooks: true, quotas: true },
    });
    expect(await (await api.request('/api/me/notifications', { headers: member.headers })).json()).toMatchObject({
      settings: { plan_requests: false, webhooks: false, quotas: false },
    });

    for (const bad of [{}, { quotas: 'yes' }, { quotas: true, sms: true }]) {
      const res = await setPreferences(owner.headers, bad);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    const changed = await setPreferences(owner.headers, { quotas: false });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ settings: { plan_requests: true, webhooks: true, quotas: false } });
    expect(await env.db('users').where({ id: owner.userId }).first('notification_settings')).toEqual({ notification_settings: { quotas: false } });
    expect((await setPreferences(member.headers, { webhooks: true })).status).toBe(200);
    expect(await (await api.request('/api/me/notifications', { headers: member.headers })).json()).toMatchObject({
      settings: { plan_requests: false, webhooks: true, quotas: false },
    });
  });
});

// The tests' tenants are their own: they run at once, so their waits for mail overlap.
describe.concurrent('mailed notifications', () => {
  it('a decided plan request reaches the owner and an opted-in member once, and nobody else', async () => {
    const { onlyMail, noDuplicates } = onlyOnce();
    const owner = await registerTenant(api, { plan: 'free', verify: true });
    const member = await addUser(owner, 'member', 'molly');
    const admin = await addUser(owner, 'admin', 'adam');
    expect((await setPreferences(member.headers, { plan_requests: true })).status).toBe(200);
    const asked = await api.request('/api/subscription', { body: { plan_code: 'starter' }, headers: owner.headers });
    expect(asked.status).toBe(202);
    const { pending_request } = (await asked.json()) as { pending_request: { id: string } };

    const decided = await api.request(`/admin/api/plan-requests/${pending_request.id}/reject`, {
      body: { reason: 'card declined' },
      headers: bearer(ADMIN_TOKEN),
    });
    expect(decided.status).toBe(200);
    const isDecision = (m: ReceivedMail) => m.subject === 'Your request for the starter plan was rejected';
    const [toOwner, toMember] = await Promise.all([onlyMail(owner.email, isDecision), onlyMail(member.email, isDecision)]);
    expect(toOwner.text).toContain('Hello Ada,');
    expect(toOwner.text).toContain('Reason: card declined');
    expect(toOwner.links).toContain(`${api.url}/api/subscription`);
    expect(toMember.text).toContain('Hello molly,');
    await noDuplicates();
    expect(smtp.to(admin.email)).toHaveLength(0);
    expect(await env.db('notifications').where({ tenant_id: owner.tenantId }).select('kind', 'recipients')).toEqual([
      { kind: 'plan_request_decided', recipients: 2 },
    ]);
  });

  it('an endpoint disabled after failing for WEBHOOK_DISABLE_AFTER_MS is mailed about once', async () => {
    const { onlyMail, noDuplicates } = onlyOnce();
    const owner = await registerTenant(api, { plan: 'starter' });
    const endpoint = await insertEndpoint(env.db, owner.tenantId, failing.url);
    // Failing for longer than the limit already: the next failed attempt disables it.
    await env.db('webhooks').where({ id: endpoint.id }).update({ failing_since: new Date(Date.now() - 60_000) });
    for (let i = 0; i < 3; i++) await finishJobWithEvent(env.db, owner.tenantId, await insertJob(env.db, owner.tenantId, { status: 'running' }));

    const mail = await onlyMail(owner.email, (m) => m.subject.startsWith('A webhook endpoint of'));
    expect(mail.text).toContain(`The webhook endpoint ${failing.url} was disabled: Every attempt failed for`);
    expect(mail.links).toContain(`${api.url}/api/webhooks/${endpoint.id}`);
    expect(mail.html).toContain(`<code>${failing.url}</code>`);
    expect(await env.db('webhooks').where({ id: endpoint.id }).first('enabled')).toEqual({ enabled: false });
    await noDuplicates();
  });

  it('a quota at 80% and then 100% is mailed once per threshold; a jump to 100% skips the 80% mail; opted-out owners get none', async () => {
    const { onlyMail, noDuplicates } = onlyOnce();
    const owner = await registerTenant(api, { plan: 'free' });
    const quiet = await addUser(owner, 'owner', 'quinn');
    expect((await setPreferences(quiet.headers, { quotas: false })).status).toBe(200);
    const day = usageDay();
    const setUsage = (metric: string, value: number) =>
      env.db('usage_counters').insert({ tenant_id: owner.tenantId, day, metric, value }).onConflict(['tenant_id', 'day', 'metric', 'lane']).merge();

    // Free plan: 500 jobs a month. Past 80%: one mail.
    await setUsage('jobs.components', 420);
    const at80 = (m: ReceivedMail) => m.subject.endsWith('has used 80% of its jobs this month');
    const warning = await onlyMail(owner.email, at80);
    expect(warning.text).toContain('has used 420 of 500 jobs this month (80%).');
    // Past 100%: one more; the 80% one is not sent again.
    await setUsage('jobs.components', 500);
    const at100 = (m: ReceivedMail) => m.subject.endsWith('has used 100% of its jobs this month');
    expect((await onlyMail(owner.email, at100)).text).toContain('At 100% new jobs are refused');
    expect(smtp.to(owner.email).filter(at80)).toHaveLength(1);

    // Straight to 100% of compute units (100,000,000 on free): only the 100% mail.
    await setUsage('compute_units', 100_000_000);
    await onlyMail(owner.email, (m) => m.subject.endsWith('has used 100% of its compute units this month'));
    await noDuplicates();
    expect(smtp.to(owner.email).filter(at80)).toHaveLength(1);
    expect(smtp.to(owner.email).filter((m) => m.subject.endsWith('80% of its compute units this month'))).toHaveLength(0);
    expect(smtp.to(quiet.email)).toHaveLength(0);

    const rows = await env.db('notifications').where({ tenant_id: owner.tenantId }).orderBy('key').select('key', 'recipients');
    const month = day.slice(0, 7);
    expect(rows).toEqual([
      { key: `quota:compute_units:${month}:100`, recipients: 1 },
      { key: `quota:compute_units:${month}:80`, recipients: 0 },
      { key: `quota:jobs:${month}:100`, recipients: 1 },
      { key: `quota:jobs:${month}:80`, recipients: 1 },
    ]);
  });

});
