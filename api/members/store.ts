/** The SQL of team members and invitations, always in the caller's tenant transaction. */
import type { Knex } from 'knex';
import type { Role } from '../../shared/auth/principal.ts';

export interface MemberRow {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  role: Role;
  email_verified_at: Date | null;
  last_login_at: Date | null;
  created_at: Date;
}

export interface InvitationRow {
  id: string;
  email: string;
  role: Role;
  invited_by: string | null;
  expires_at: Date;
  created_at: Date;
}

const MEMBER_COLUMNS = ['id', 'email', 'first_name', 'last_name', 'role', 'email_verified_at', 'last_login_at', 'created_at'];

export function presentMember(row: MemberRow) {
  const { email_verified_at, ...rest } = row;
  return { ...rest, email_verified: email_verified_at !== null };
}

/** Members, oldest first (a tenant has at most its plan's seats, so one page holds them). */
export function listMembers(trx: Knex.Transaction, tenantId: string): Promise<MemberRow[]> {
  return trx('users').where({ tenant_id: tenantId }).orderBy([{ column: 'created_at' }, { column: 'id' }]).select<MemberRow[]>(MEMBER_COLUMNS);
}

export function lockMember(trx: Knex.Transaction, tenantId: string, userId: string): Promise<MemberRow | undefined> {
  return trx('users').where({ tenant_id: tenantId, id: userId }).forUpdate().first<MemberRow | undefined>(MEMBER_COLUMNS);
}

/**
 * Locks the tenant's owners (in id order, so two changes never deadlock) and counts them: two
 * owners demoting each other at once cannot both pass the last-owner check.
 */
export async function lockOwners(trx: Knex.Transaction, tenantId: string): Promise<number> {
  const owners = await trx('users').where({ tenant_id: tenantId, role: 'owner' }).orderBy('id').forUpdate().select('id');
  return owners.length;
}

/** Invitations not yet accepted, revoked or expired. */
export function pendingInvitations(trx: Knex.Transaction, tenantId: string): Promise<InvitationRow[]> {
  return trx('account_tokens')
    .where({ tenant_id: tenantId, kind: 'invitation' })
    .whereNull('used_at')
    .where('expires_at', '>', trx.fn.now())
    .orderBy('created_at')
    .select<InvitationRow[]>(
      'id',
      'email',
      trx.raw(`details->>'role' as role`),
      trx.raw(`(details->>'invited_by')::uuid as invited_by`),
      'expires_at',
      'created_at',
    );
}

/** Members plus pending invitations: what the plan's seats count. */
export async function seatsTaken(trx: Knex.Transaction, tenantId: string): Promise<number> {
  const { rows } = await trx.raw<{ rows: Array<{ n: string }> }>(
    `select (select count(*) from users where tenant_id = ?)
          + (select count(*) from account_tokens where tenant_id = ? and kind = 'invitation' and used_at is null and expires_at > now()) as n`,
    [tenantId, tenantId],
  );
  return Number(rows[0]?.n ?? 0);
}
