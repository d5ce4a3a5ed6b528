/**
 * Teams over real HTTP, PostgreSQL, Redis and a real SMTP server: an invitation is accepted from
 * the link in the received mail (once), by API and in Chromium; roles decide who may invite whom;
 * a removed member's access token and API key stop at the very next request; the last owner can
 * be neither demoted nor removed; the plan's seats cap members plus pending invitations.
 */
import { describe, expect, it } from 'vitest';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createApiKey, IDENTITY_TEST_ENV, type RegisteredTenant, registerTenant } from '../support/identity.ts';
import { tokenOf, useTestMail, verifyByMail } from '../support/mail.ts';
import { useBrowser } from '../support/browser.ts';

const PASSWORD = 'Quartz-Lantern-81-Meadow!';
const env = useTestEnvironment(IDENTITY_TEST_ENV);
const api = useTestApi(env);
const mail = useTestMail(env, api);

interface Member {
  id: string;
  email: string;
  role: string;
  email_verified: boolean;
}

let seq = 0;
const address = (who: string) => `${who}-${Date.now()}-${seq++}@example.test`;

async function invite(by: { headers: Record<string, string> }, email: string, role: string): Promise<Response> {
  return api.request('/api/invitations', { headers: by.headers, body: { email, role } });
}

/** Invites `email`, reads the mail, accepts from its link: the new member's headers and id. */
async function join(owner: RegisteredTenant, role: string, email = address(role)) {
  expect((await invite(owner, email, role)).status).toBe(201);
  const received = await mail.smtp.waitFor(email);
  const res = await api.request('/auth/invitations/accept', { body: { token: tokenOf(received.links[0]), first_name: 'New', last_name: 'Member', password: PASSWORD } });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { user: Member; tokens: { access_token: string } };
  return { id: body.user.id, email, accessToken: body.tokens.access_token, headers: { authorization: `Bearer ${body.tokens.access_token}` }, body };
}

/** A signed-up owner who has confirmed the address from the sign-up's mail (inviting needs it). */
async function verifiedOwner(plan: string): Promise<RegisteredTenant> {
  const owner = await registerTenant(api, { plan });
  await verifyByMail(api, mail, owner.email);
  return owner;
}

async function members(tenant: { headers: Record<string, string> }): Promise<Member[]> {
  const res = await api.request('/api/members', { headers: tenant.headers });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: Member[] }).data;
}

describe('team', () => {
  it('an invitation is accepted once from the link in the received mail', async () => {
    const owner = await verifiedOwner('professional');
    const email = address('ann');
    const created = await invite(owner, email, 'member');
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ email, role: 'member' });
    const received = await mail.smtp.waitFor(email);
    expect(received.subject).toMatch(/invited you to Company .* on Catalytic/);
    expect(received.links[0]).toMatch(new RegExp(`^${api.url}/account/accept-invitation#token=cin_`));
    const pending = (await (await api.request('/api/invitations', { headers: owner.headers })).json()) as { data: Array<{ email: string }> };
    expect(pending.data.map((i) => i.email)).toEqual([email]);

    const token = tokenOf(received.links[0]);
    const accepted = await api.request('/auth/invitations/accept', { body: { token, first_name: 'Ann', last_name: 'Lee', password: PASSWORD } });
    expect(accepted.status).toBe(201);
    const body = (await accepted.json()) as { user: Member; tokens: { access_token: string } };
    expect(body.user).toMatchObject({ email, role: 'member', email_verified: true });
    const me = await api.request('/api/me', { headers: { authorization: `Bearer ${body.tokens.access_token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ tenant: { id: owner.tenantId } });
    expect((await members(owner)).map((m) => m.role)).toEqual(['owner', 'member']);
    expect((await api.request('/api/invitations', { headers: owner.headers }).then((r) => r.json()) as { data: unknown[] }).data).toEqual([]);

    const again = await api.request('/auth/invitations/accept', { body: { token, first_name: 'Eve', last_name: 'X', password: PASSWORD } });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ code: 'link_invalid' });
    expect((await api.request('/auth/login', { body: { email, password: PASSWORD } })).status).toBe(200);
  });

  it('owners and admins invite; admins cannot make owners; members cannot invite; a revoked invitation is dead', async () => {
    const owner = await verifiedOwner('professional');
    const admin = await join(owner, 'admin');
    const member = await join(owner, 'member');
    expect((await invite(admin, address('x'), 'owner')).status).toBe(403);
    expect((await invite(member, address('x'), 'viewer')).status).toBe(403);
    expect((await invite(owner, member.email, 'viewer')).status).toBe(409);
    const email = address('revoked');
    const created = (await (await invite(admin, email, 'viewer')).json()) as { id: string };
    const received = await mail.smtp.waitFor(email);
    expect((await api.request(`/api/invitations/${created.id}`, { method: 'DELETE', headers: admin.headers })).status).toBe(204);
    const res = await api.request('/auth/invitations/accept', { body: { token: tokenOf(received.links[0]), first_name: 'R', last_name: 'V', password: PASSWORD } });
    expect(res.status).toBe(400);
    // An admin cannot touch an owner.
    expect((await api.request(`/api/members/${owner.userId}`, { method: 'PATCH', headers: admin.headers, body: { role: 'member' } })).status).toBe(403);
    expect((await api.request(`/api/members/${member.id}`, { method: 'PATCH', headers: admin.headers, body: { role: 'viewer' } })).status).toBe(200);
  });

  it("a removed member's access token and API key stop at the very next request", async () => {
    const owner = await verifiedOwner('professional');
    const member = await join(owner, 'member');
    const { headers: keyHeaders } = await createApiKey(api, member.accessToken, { scopes: ['jobs:read'] });
    // Both credentials work, and are in the credential cache.
    expect((await api.request('/api/jobs', { headers: keyHeaders })).status).toBe(200);
    expect((await api.request('/api/me', { headers: member.headers })).status).toBe(200);
    expect((await api.request(`/api/members/${member.id}`, { method: 'DELETE', headers: owner.headers })).status).toBe(204);
    expect((await api.request('/api/jobs', { headers: keyHeaders })).status).toBe(401);
    expect((await api.request('/api/me', { headers: member.headers })).status).toBe(401);
    expect((await api.request('/auth/login', { body: { email: member.email, password: PASSWORD } })).status).toBe(401);
    expect((await members(owner)).map((m) => m.id)).toEqual([owner.userId]);
    const actions = (await env.db('audit_log').where({ tenant_id: owner.tenantId }).pluck('action')) as string[];
    expect(actions).toEqual(expect.arrayContaining(['member.invited', 'member.joined', 'member.removed']));
  });

  it('the last owner can be neither demoted nor removed', async () => {
    const owner = await verifiedOwner('professional');
    const demote = await api.request(`/api/members/${owner.userId}`, { method: 'PATCH', headers: owner.headers, body: { role: 'admin' } });
    expect(demote.status).toBe(409);
    expect((await api.request(`/api/members/${owner.userId}`, { method: 'DELETE', headers: owner.headers })).status).toBe(409);
    const second = await join(owner, 'admin');
    expect((await api.request(`/api/members/${second.id}`, { method: 'PATCH', headers: owner.headers, body: { role: 'owner' } })).status).toBe(200);
    expect((await api.request(`/api/members/${owner.userId}`, { method: 'PATCH', headers: owner.headers, body: { role: 'admin' } })).status).toBe(200);
    expect((await members(owner)).find((m) => m.id === owner.userId)?.role).toBe('admin');
    expect((await api.request(`/api/members/${second.id}`, { method: 'DELETE', headers: second.headers })).status).toBe(409);
  });

  it("the plan's seats cap members plus pending invitations", async () => {
    const owner = await verifiedOwner('free');
    expect((await invite(owner, address('s1'), 'member')).status).toBe(201);
    expect((await invite(owner, address('s2'), 'member')).status).toBe(201);
    const over = await invite(owner, address('s3'), 'member');
    expect(over.status).toBe(402);
    expect(await over.json()).toMatchObject({ code: 'plan_limit_exceeded', limit: 'max_seats', limit_value: 3 });
  });

  describe('in a browser', () => {
    const browser = useBrowser();

    it('opens the mailed invitation and joins from the page', async () => {
      const owner = await verifiedOwner('professional');
      const email = address('web');
      expect((await invite(owner, email, 'viewer')).status).toBe(201);
      const received = await mail.smtp.waitFor(email);
      const page = await browser().newPage();
      try {
        await page.goto(received.links[0] as string);
        await page.fill('input[name=first_name]', 'Web');
        await page.fill('input[name=last_name]', 'Joiner');
        await page.fill('input[name=password]', PASSWORD);
        await page.click('#with-token button');
        await page.getByText('Welcome aboard').waitFor({ timeout: 15_000 });
      } finally {
        await page.close();
      }
      expect((await members(owner)).find((m) => m.email === email)).toMatchObject({ role: 'viewer', email_verified: true });
    });
  });
});
