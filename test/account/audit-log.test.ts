/**
 * The audit log through the SDK over real HTTP: owners read the tenant's entries newest first,
 * filtered by action (exact or a family) and by actor, page by page without repeats or gaps; a
 * member is refused; an invitation accepted through the SDK shows up as the member's entry.
 */
import { describe, expect, it } from 'vitest';
import { CatalyticApiError, CatalyticClient } from '../../client/index.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { IDENTITY_TEST_ENV, registerTenant } from '../support/identity.ts';
import { tokenOf, useTestMail, verifyByMail } from '../support/mail.ts';

const env = useTestEnvironment(IDENTITY_TEST_ENV);
const api = useTestApi(env);
const mail = useTestMail(env, api);
const PASSWORD = 'Quartz-Lantern-81-Meadow!';

describe('audit log', () => {
  it('owners read, filter and page it; members cannot', async () => {
    const owner = await registerTenant(api, { plan: 'professional' });
    await verifyByMail(api, mail, owner.email);
    const client = new CatalyticClient({ baseUrl: api.url, tokens: { accessToken: owner.accessToken } });
    const email = `audited-${Date.now()}@example.test`;
    await client.invitations.create(email, 'member');
    const received = await mail.smtp.waitFor(email);
    const joined = await new CatalyticClient({ baseUrl: api.url }).invitations.accept({ token: tokenOf(received.links[0]), first_name: 'Au', last_name: 'Dit', password: PASSWORD });
    const member = new CatalyticClient({ baseUrl: api.url, tokens: { accessToken: joined.tokens.access_token } });
    await client.members.setRole(joined.user.id, 'viewer');

    const all = [];
    for await (const entry of client.audit.all({ limit: 2 })) all.push(entry);
    const actions = all.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['tenant.registered', 'auth.email_verified', 'member.invited', 'member.joined', 'member.role_changed']));
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    const times = all.map((e) => Date.parse(e.created_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(all.find((e) => e.action === 'member.joined')?.actor.user_id).toBe(joined.user.id);

    const family = await client.audit.list({ action: 'member.*' });
    expect(family.data.map((e) => e.action).sort()).toEqual(['member.invited', 'member.joined', 'member.role_changed']);
    const byOwner = await client.audit.list({ actor: owner.userId, action: 'member.invited,member.role_changed' });
    expect(byOwner.data.map((e) => e.action)).toEqual(['member.role_changed', 'member.invited']);
    expect(byOwner.data[0]?.details).toMatchObject({ member_id: joined.user.id, from: 'member', to: 'viewer' });

    const refused = await member.audit.list().catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(CatalyticApiError);
    expect((refused as CatalyticApiError).status).toBe(403);
    const bad = await client.audit.list({ action: 'drop table' }).catch((err: unknown) => err);
    expect((bad as CatalyticApiError).status).toBe(400);
  });
});
