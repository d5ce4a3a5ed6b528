/**
 * The team and password commands against the real API and a real SMTP server: `members invite`
 * mails a link, `members list|role|remove` manage the team, `audit` shows what happened,
 * `password change` keeps the CLI signed in with the new session, and `password reset` mails a
 * link whose token `password reset --token` spends.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { tokenOf, useTestMail, verifyByMail } from '../support/mail.ts';
import { runCli, STRONG_PASSWORD } from './stack.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
const mail = useTestMail(env, api);
const NEW_PASSWORD = 'Meadow-Quartz-Lantern-77!';
let home: string;
const email = `team-cli-${randomUUID().slice(0, 8)}@example.test`;
const cli = (args: string[], input?: string) => runCli(args, { CATALYTIC_URL: api.url, CATALYTIC_CONFIG: join(home, 'credentials.json'), HOME: home }, { input });

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'catalytic-team-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('team commands', () => {
  it('invite, list, role, remove, audit, password change and reset', async () => {
    const registered = await cli(['register', '--company', 'Team Co', '--email', email, '--first-name', 'Ada', '--last-name', 'Owner', '--password-stdin'], `${STRONG_PASSWORD}\n`);
    expect(registered.code, registered.stderr).toBe(0);
    await verifyByMail(api, mail, email);

    const invitee = `joiner-${randomUUID().slice(0, 8)}@example.test`;
    const invited = await cli(['members', 'invite', invitee, '--role', 'admin']);
    expect(invited.code, invited.stderr).toBe(0);
    const received = await mail.smtp.waitFor(invitee);
    const accepted = await api.request('/auth/invitations/accept', { body: { token: tokenOf(received.links[0]), first_name: 'Jo', last_name: 'Iner', password: NEW_PASSWORD } });
    expect(accepted.status).toBe(201);
    const joinedId = ((await accepted.json()) as { user: { id: string } }).user.id;

    const listed = await cli(['members', 'list', '--json']);
    expect((JSON.parse(listed.stdout) as { data: Array<{ email: string; role: string }> }).data.map((m) => [m.email, m.role])).toEqual([[email, 'owner'], [invitee, 'admin']]);
    expect((await cli(['members', 'role', joinedId, 'viewer'])).stdout).toContain(`${invitee} is now viewer`);
    expect((await cli(['members', 'role', joinedId, 'boss'])).code).toBe(2);
    expect((await cli(['members', 'remove', joinedId])).code).toBe(0);
    const audit = await cli(['audit', '--action', 'member.*', '--json']);
    expect((JSON.parse(audit.stdout) as { data: Array<{ action: string }> }).data.map((e) => e.action)).toEqual(['member.removed', 'member.role_changed', 'member.joined', 'member.invited']);

    const changed = await cli(['password', 'change', '--password-stdin'], `${STRONG_PASSWORD}\n${NEW_PASSWORD}\n`);
    expect(changed.code, changed.stderr).toBe(0);
    // Still signed in: the CLI saved the new session.
    expect((await cli(['whoami'])).code).toBe(0);

    const reset = await cli(['password', 'reset', email]);
    expect(reset.stdout).toContain('If an account has this email address');
    const link = await mail.smtp.waitFor(email, (m) => m.subject === 'Reset your Catalytic password');
    const done = await cli(['password', 'reset', email, '--token', tokenOf(link.links[0]), '--password-stdin'], `${STRONG_PASSWORD}-2\n`);
    expect(done.code, done.stderr).toBe(0);
    expect((await api.request('/auth/login', { body: { email, password: `${STRONG_PASSWORD}-2` } })).status).toBe(200);
  });
});
