/**
 * A tenant's team. Owners and admins invite by email with a role (a mailed, single-use link that
 * expires after INVITATION_TTL_MS; an admin cannot make owners), change roles and remove members;
 * a removed member's sessions and API keys stop at once, in every API process. The last owner can
 * be neither removed nor demoted. Members plus pending invitations count against the plan's seats.
 */
import { recordAudit } from '../../shared/audit.ts';
import { hashPassword, passwordWeakness } from '../../shared/auth/passwords.ts';
import type { Principal, Role } from '../../shared/auth/principal.ts';
import type { Config } from '../../shared/config.ts';
import { type Db, withTenant } from '../../shared/db.ts';
import { AppError, errorCode } from '../../shared/errors.ts';
import type { MailOutbox } from '../../shared/mail/mail-queue.ts';
import { getTenantPlan, withinLimit } from '../../shared/plans.ts';
import { HOUR } from '../../shared/units.ts';
import { normaliseEmail } from '../auth/account-lockout.ts';
import type { PrincipalInvalidations } from '../auth/principal-cache.ts';
import type { RequestMeta } from '../auth/request-meta.ts';
import type { Sessions, TokenPair } from '../auth/sessions.ts';
import type { RateLimits } from '../middleware/rate-limit.ts';
import { claimAccountToken, insertAccountToken, newAccountToken, tenantOfToken } from '../account/account-tokens.ts';
import { type InvitationRow, listMembers, lockMember, lockOwners, type MemberRow, pendingInvitations, presentMember, seatsTaken } from './store.ts';

export interface TeamDeps {
  db: Db;
  sessions: Sessions;
  mail: MailOutbox;
  rateLimits: RateLimits;
  invalidations: PrincipalInvalidations;
  config: Config;
}

/** Who may grant a role: owners any; admins any but owner. */
function assertMayGrant(actor: Principal, role: Role): void {
  if (role === 'owner' && actor.role !== 'owner') throw new AppError('forbidden', 'Only an owner can make owners');
}

/** Who may change or remove a member: owners anyone; admins anyone but owners. */
function assertMayManage(actor: Principal, target: MemberRow): void {
  if (target.role === 'owner' && actor.role !== 'owner') throw new AppError('forbidden', 'Only an owner can change or remove an owner');
}

const lastOwner = () => new AppError('conflict', 'The last owner cannot be removed or demoted: make another member owner first');
const UNIQUE_VIOLATION = '23505';

export class TeamService {
  constructor(private readonly deps: TeamDeps) {}

  async list(principal: Principal) {
    const rows = await withTenant(this.deps.db, principal.tenantId, (trx) => listMembers(trx, principal.tenantId));
    return rows.map(presentMember);
  }

  async invite(principal: Principal, email: string, role: Role, meta: RequestMeta): Promise<InvitationRow> {
    const { db, config, rateLimits, mail } = this.deps;
    assertMayGrant(principal, role);
    const address = normaliseEmail(email);
    await rateLimits.hit('invite:tenant', principal.tenantId, { points: config.INVITATIONS_PER_TENANT_PER_DAY, durationS: (24 * HOUR) / 1000 }, 'invitations_per_day', `A tenant may send ${config.INVITATIONS_PER_TENANT_PER_DAY} invitations a day`);
    const { token, hash } = newAccountToken('invitation');
    const { invitation, tenantName, inviterName } = await withTenant(db, principal.tenantId, async (trx) => {
      // One invitation at a time: seats are counted under the tenant's row lock (NO KEY, so the
      // foreign-key checks of the tenant's job writes, in other tenants' group commits, never wait on it).
      const tenant = await trx('tenants').where({ id: principal.tenantId }).forNoKeyUpdate().first<{ name: string }>('name');
      const members = await listMembers(trx, principal.tenantId);
      if (members.some((m) => normaliseEmail(m.email) === address)) throw new AppError('conflict', 'This address is already a member of the team');
      // A new invitation to the same address replaces the pending one.
      await trx('account_tokens').where({ tenant_id: principal.tenantId, kind: 'invitation', email: address }).whereNull('used_at').update({ used_at: trx.fn.now() });
      const plan = await getTenantPlan(trx, principal.tenantId);
      const taken = await seatsTaken(trx, principal.tenantId);
      if (!withinLimit(taken + 1, plan.max_seats)) {
        throw new AppError('plan_limit_exceeded', `The ${plan.name} plan allows ${plan.max_seats} seats (members and pending invitations)`, {
          extra: { limit: 'max_seats', limit_value: plan.max_seats, value: taken + 1, plan: plan.code },
        });
      }
      const inviter = members.find((m) => m.id === principal.userId);
      const row = await insertAccountToken(trx, {
        tenantId: principal.tenantId,
        userId: null,
        kind: 'invitation',
        hash,
        email: address,
        ttlMs: config.INVITATION_TTL_MS,
        details: { role, invited_by: principal.userId },
      });
      await recordAudit(trx, { tenantId: principal.tenantId, userId: principal.userId, apiKeyId: principal.apiKeyId, action: 'member.invited', ...meta, details: { email: address, role, invitation_id: row.id } });
      return {
        invitation: { id: row.id, email: address, role, invited_by: principal.userId, expires_at: row.expires_at, created_at: row.created_at },
        tenantName: tenant?.name ?? 'a team',
        inviterName: inviter ? `${inviter.first_name} ${inviter.last_name}` : 'A team administrator',
      };
    });
    await mail.send('invitation', address, {
      tenant_name: tenantName,
      inviter_name: inviterName,
      role,
      token,
      expires_hours: String(Math.round(config.INVITATION_TTL_MS / HOUR)),
    });
    return invitation;
  }

  async invitations(principal: Principal): Promise<InvitationRow[]> {
    return withTenant(this.deps.db, principal.tenantId, (trx) => pendingInvitations(trx, principal.tenantId));
  }

  async revokeInvitation(principal: Principal, id: string, meta: RequestMeta): Promise<void> {
    await withTenant(this.deps.db, principal.tenantId, async (trx) => {
      const revoked = await trx('account_tokens').where({ tenant_id: principal.tenantId, kind: 'invitation', id }).whereNull('used_at').update({ used_at: trx.fn.now() });
      if (!revoked) throw new AppError('not_found', 'No such pending invitation');
      await recordAudit(trx, { tenantId: principal.tenantId, userId: principal.userId, apiKeyId: principal.apiKeyId, action: 'member.invitation_revoked', ...meta, details: { invitation_id: id } });
    });
  }

  /** Spends an invitation link: the new member's account, signed in. */
  async accept(input: { token: string; first_name: string; last_name: string; password: string }, meta: RequestMeta): Promise<{ user: ReturnType<typeof presentMember>; tokens: TokenPair }> {
    const { db, sessions } = this.deps;
    const tenantId = await tenantOfToken(db, 'invitation', input.token);
    const passwordHash = await hashPassword(input.password);
    try {
      return await withTenant(db, tenantId, async (trx) => {
        const claimed = await claimAccountToken(trx, tenantId, 'invitation', input.token);
        const weakness = passwordWeakness(input.password, [claimed.email, input.first_name, input.last_name]);
        if (weakness) throw new AppError('validation_failed', `body.password: ${weakness}`, { extra: { errors: [{ path: 'body.password', message: weakness }] } });
        const role = String(claimed.details.role) as Role;
        const [user] = await trx('users')
          .insert({ tenant_id: tenantId, email: claimed.email, first_name: input.first_name, last_name: input.last_name, password_hash: passwordHash, role, email_verified_at: trx.fn.now() })
          .returning<MemberRow[]>(['id', 'email', 'first_name', 'last_name', 'role', 'email_verified_at', 'last_login_at', 'created_at']);
        if (!user) throw new Error('invitation accepted but no user inserted');
        await recordAudit(trx, { tenantId, userId: user.id, action: 'member.joined', ...meta, details: { role, invitation_id: claimed.id } });
        return { user: presentMember(user), tokens: await sessions.issue(trx, { id: user.id, tenant_id: tenantId, role }) };
      });
    } catch (err) {
      if (errorCode(err) === UNIQUE_VIOLATION && /users_email_unique/.test((err as Error).message)) {
        throw new AppError('conflict', 'An account with this email already exists; it cannot join a second team');
      }
      throw err;
    }
  }

  async changeRole(principal: Principal, userId: string, role: Role, meta: RequestMeta) {
    const member = await withTenant(this.deps.db, principal.tenantId, async (trx) => {
      const owners = await lockOwners(trx, principal.tenantId);
      const target = await lockMember(trx, principal.tenantId, userId);
      if (!target) throw new AppError('not_found', 'No such member');
      assertMayManage(principal, target);
      assertMayGrant(principal, role);
      if (target.role === role) return target;
      if (target.role === 'owner' && owners <= 1) throw lastOwner();
      await trx('users').where({ tenant_id: principal.tenantId, id: userId }).update({ role, updated_at: trx.fn.now() });
      await recordAudit(trx, { tenantId: principal.tenantId, userId: principal.userId, apiKeyId: principal.apiKeyId, action: 'member.role_changed', ...meta, details: { member_id: userId, from: target.role, to: role } });
      return { ...target, role };
    });
    // The member's tokens and keys act with the new role from the next request, in every process.
    await this.deps.invalidations.invalidate({ userId });
    return presentMember(member);
  }

  async remove(principal: Principal, userId: string, meta: RequestMeta): Promise<void> {
    const { db, sessions, invalidations } = this.deps;
    const revokeSessions = await withTenant(db, principal.tenantId, async (trx) => {
      const owners = await lockOwners(trx, principal.tenantId);
      const target = await lockMember(trx, principal.tenantId, userId);
      if (!target) throw new AppError('not_found', 'No such member');
      assertMayManage(principal, target);
      if (target.role === 'owner' && owners <= 1) throw lastOwner();
      const revoke = await sessions.endAllOf(trx, principal.tenantId, userId);
      await recordAudit(trx, { tenantId: principal.tenantId, userId: principal.userId, apiKeyId: principal.apiKeyId, action: 'member.removed', ...meta, details: { member_id: userId, email: target.email, role: target.role } });
      // Deleting the user revokes every API key they made (a trigger) and their refresh tokens (cascade).
      await trx('users').where({ tenant_id: principal.tenantId, id: userId }).delete();
      return revoke;
    });
    await revokeSessions();
    await invalidations.invalidate({ userId });
  }
}
