/**
 * Email addresses over real HTTP, PostgreSQL, Redis and a real SMTP server: a sign-up mails a
 * link that confirms the owner's address; until then the owner may run jobs but not invite
 * members (403 `email_unverified`); an address change moves sign-in only once the new address's
 * link is spent, with the current password required; Chromium confirms from the mailed link.
 */
import { describe, expect, it } from 'vitest';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { IDENTITY_TEST_ENV, registerTenant, STRONG_PASSWORD } from '../support/identity.ts';
import { tokenOf, useTestMail } from '../support/mail.ts';
import { useBrowser } from '../support/browser.ts';

const env = useTestEnvironment(IDENTITY_TEST_ENV);
const api = useTestApi(env);
const mail = useTestMail(env, api);
const CHECK = 'Confirm your email address for Catalytic';

const verified = async (tenantId: string) => (await env.db('users').where({ tenant_id: tenantId }).first('email_verified_at')).email_verified_at as Date | null;

describe('email verification', () => {
  it('an unverified owner runs jobs but cannot invite until the mailed link is followed', async () => {
    const owner = await registerTenant(api, { plan: 'free' });
    const received = await mail.smtp.waitFor(owner.email, (m) => m.subject === CHECK);
    expect(received.links[0]).toMatch(new RegExp(`^${api.url}/account/verify-email#token=cev_`));
    expect(await verified(owner.tenantId)).toBeNull();
    const job = await api.request('/api/jobs', { headers: owner.headers, body: { type: 'components', lattice: { shape: [4, 4] }, params: {} } });
    expect(job.status).toBe(202);
    const refused = await api.request('/api/invitations', { headers: owner.headers, body: { email: 'friend@example.test', role: 'member' } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'email_unverified' });

    expect((await api.request('/auth/verify-email', { body: { token: tokenOf(received.links[0]) } })).status).toBe(204);
    expect(await verified(owner.tenantId)).not.toBeNull();
    expect((await api.request('/auth/verify-email', { body: { token: tokenOf(received.links[0]) } })).status).toBe(400);
    expect((await api.request('/api/invitations', { headers: owner.headers, body: { email: 'friend@example.test', role: 'member' } })).status).toBe(201);
    const resend = await api.request('/api/me/email/verify', { method: 'POST', headers: owner.headers });
    expect(await resend.json()).toEqual({ status: 'already_verified' });
  });

  it('an address change needs the current password and moves sign-in only once the new address is confirmed', async () => {
    const owner = await registerTenant(api, { plan: 'free' });
    const newEmail = `moved-${Date.now()}@example.test`;
    const change = (current_password: string) => api.request('/api/me/email', { headers: owner.headers, body: { email: newEmail, current_password } });
    expect((await change('Wrong-Password-For-Sure-1')).status).toBe(403);
    expect((await change(STRONG_PASSWORD)).status).toBe(200);
    const received = await mail.smtp.waitFor(newEmail, (m) => m.subject === CHECK);
    expect((await api.request('/auth/login', { body: { email: owner.email, password: STRONG_PASSWORD } })).status).toBe(200);
    expect((await api.request('/auth/verify-email', { body: { token: tokenOf(received.links[0]) } })).status).toBe(204);
    expect((await api.request('/auth/login', { body: { email: owner.email, password: STRONG_PASSWORD } })).status).toBe(401);
    expect((await api.request('/auth/login', { body: { email: newEmail, password: STRONG_PASSWORD } })).status).toBe(200);
    expect(await verified(owner.tenantId)).not.toBeNull();
    const actions = (await env.db('audit_log').where({ tenant_id: owner.tenantId }).pluck('action')) as string[];
    expect(actions).toEqual(expect.arrayContaining(['auth.email_change_requested', 'auth.email_changed']));
  });

  describe('in a browser', () => {
    const browser = useBrowser();

    it('confirms the address from the mailed link', async () => {
      const owner = await registerTenant(api, { plan: 'free' });
      const received = await mail.smtp.waitFor(owner.email, (m) => m.subject === CHECK);
      const page = await browser().newPage();
      try {
        await page.goto(received.links[0] as string);
        await page.getByText('Your email address is confirmed').waitFor({ timeout: 15_000 });
      } finally {
        await page.close();
      }
      expect(await verified(owner.tenantId)).not.toBeNull();
    });
  });
});
