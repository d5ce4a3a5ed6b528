/** `catalytic members invite|list|remove|role`, `catalytic password reset|change` and `catalytic audit`. */
import type { Command } from 'commander';
import type { Role } from '../../client/index.ts';
import { UsageError } from './cli-errors.ts';
import { formatTime, renderFields, renderTable } from './format.ts';
import { ask, canPrompt, readStdin } from './prompt.ts';
import { clientAction, clientCommand } from './session.ts';

const ROLES: readonly Role[] = ['owner', 'admin', 'member', 'viewer'];

function role(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) throw new UsageError(`role: expected one of ${ROLES.join(', ')}`);
  return value as Role;
}

/** Passwords from stdin (current, then new, one a line), else asked on the terminal. */
async function passwords(names: string[], fromStdin: boolean | undefined): Promise<string[]> {
  if (fromStdin) {
    const lines = (await readStdin()).split(/\r?\n/);
    if (lines.length < names.length) throw new UsageError(`--password-stdin: expected ${names.length} lines (${names.join(', then ')})`);
    return lines.slice(0, names.length);
  }
  if (!canPrompt()) throw new UsageError('no terminal to ask for passwords: use --password-stdin');
  const out: string[] = [];
  for (const name of names) out.push(await ask(`${name}: `, { hidden: true }));
  return out;
}

export function registerTeamCommands(program: Command): void {
  const members = program.command('members').description("the tenant's members and invitations");

  clientCommand(members, 'list', 'members and pending invitations')
    .action(
      clientAction(async (session) => {
        const list = await session.client.members.list();
        const pending = await session.client.invitations.list().catch(() => []);
        if (session.json) {
          session.printJson({ data: list, invitations: pending });
          return;
        }
        session.out(
          renderTable(list, [
            { header: 'ID', value: (m) => m.id },
            { header: 'EMAIL', value: (m) => m.email },
            { header: 'NAME', value: (m) => `${m.first_name} ${m.last_name}` },
            { header: 'ROLE', value: (m) => m.role },
            { header: 'VERIFIED', value: (m) => (m.email_verified ? 'yes' : 'no') },
            { header: 'LAST LOGIN', value: (m) => formatTime(m.last_login_at) },
          ]),
        );
        if (pending.length) {
          session.out(`\nPending invitations:\n${renderTable(pending, [
            { header: 'ID', value: (i) => i.id },
            { header: 'EMAIL', value: (i) => i.email },
            { header: 'ROLE', value: (i) => i.role },
            { header: 'EXPIRES', value: (i) => formatTime(i.expires_at) },
          ])}`);
        }
      }),
    );

  clientCommand(members, 'invite <email>', 'invite an address (a single-use link is mailed to it)')
    .option('--role <role>', `${ROLES.join(', ')}`, 'member')
    .action(
      clientAction(async (session, email: string, options: { role: string }) => {
        const invitation = await session.client.invitations.create(email, role(options.role));
        if (session.json) session.printJson(invitation);
        else session.out(renderFields([['invitation', invitation.id], ['email', invitation.email], ['role', invitation.role], ['expires', formatTime(invitation.expires_at)]]));
      }),
    );

  clientCommand(members, 'remove <id>', 'remove a member: their sessions and API keys stop at once')
    .action(
      clientAction(async (session, id: string) => {
        await session.client.members.remove(id);
        if (session.json) session.printJson({ id, removed: true });
        else session.out(`Removed member ${id}`);
      }),
    );

  clientCommand(members, 'role <id> <role>', "change a member's role")
    .action(
      clientAction(async (session, id: string, newRole: string) => {
        const member = await session.client.members.setRole(id, role(newRole));
        if (session.json) session.printJson(member);
        else session.out(`${member.email} is now ${member.role}`);
      }),
    );

  const password = program.command('password').description('reset a forgotten password, or change yours');

  clientCommand(password, 'reset <email>', 'mail a reset link to the address (if it has an account); with --token, set the new password')
    .option('--token <token>', "the token from the link (after '#token='): set the new password now")
    .option('--password-stdin', 'read the new password from stdin')
    .action(
      clientAction(async (session, email: string, options: { token?: string; passwordStdin?: boolean }) => {
        if (!options.token) {
          const answer = await session.client.password.requestReset(email);
          if (session.json) session.printJson(answer);
          else session.out(answer.detail);
          return;
        }
        const [next] = await passwords(['New password'], options.passwordStdin);
        await session.client.password.confirmReset(options.token, next as string);
        if (session.json) session.printJson({ reset: true });
        else session.out('Password set; every session was signed out. Sign in with `catalytic login`.');
      }),
    );

  clientCommand(password, 'change', 'change your password (every other session ends)')
    .option('--password-stdin', 'read the current and the new password from stdin, one a line')
    .action(
      clientAction(async (session, options: { passwordStdin?: boolean }) => {
        const [current, next] = await passwords(['Current password', 'New password'], options.passwordStdin);
        await session.client.password.change(current as string, next as string);
        if (session.json) session.printJson({ changed: true });
        else session.out('Password changed; every other session was signed out.');
      }),
    );

  clientCommand(program, 'audit', "the tenant's audit log, newest first (owners and admins)")
    .option('--action <list>', 'comma-separated actions, or a family like member.*')
    .option('--actor <userId>', 'only entries made by this user')
    .option('--limit <n>', 'entries to show', (v) => Number(v), 50)
    .action(
      clientAction(async (session, options: { action?: string; actor?: string; limit: number }) => {
        if (!Number.isInteger(options.limit) || options.limit < 1) throw new UsageError('--limit: expected a positive whole number');
        const entries = [];
        for await (const entry of session.client.audit.all({ action: options.action, actor: options.actor, limit: Math.min(200, options.limit) })) {
          entries.push(entry);
          if (entries.length >= options.limit) break;
        }
        if (session.json) {
          session.printJson({ data: entries });
          return;
        }
        session.out(
          renderTable(entries, [
            { header: 'TIME', value: (e) => formatTime(e.created_at) },
            { header: 'ACTION', value: (e) => e.action },
            { header: 'ACTOR', value: (e) => e.actor.user_id ?? (e.actor.api_key_id ? `key ${e.actor.api_key_id}` : '-') },
            { header: 'IP', value: (e) => e.ip ?? '-' },
            { header: 'DETAILS', value: (e) => JSON.stringify(e.details) },
          ]),
        );
      }),
    );
}
