/**
 * Wire schemas of the account routes (password reset and change; team members and invitations;
 * the audit log): the API validates and documents with them, and the SDK takes its types from them.
 */
import './openapi-zod.ts';
import { z } from 'zod';
import { EMAIL, newPassword } from './identity.ts';

export const PASSWORD_RESET_REQUEST = z.object({ email: z.string().trim().min(1).max(254) }).openapi('PasswordResetRequest');

export const PASSWORD_RESET_ACCEPTED = z
  .object({ status: z.literal('accepted'), detail: z.string() })
  .openapi('PasswordResetAccepted');

export const PASSWORD_RESET_CONFIRM = z
  .object({ token: z.string().min(1).max(128).describe('From the link in the mail (after `#token=`)'), password: newPassword("the account's email and names") })
  .openapi('PasswordResetConfirm');

export const PASSWORD_CHANGE = z
  .object({ current_password: z.string().min(1).max(1024), new_password: newPassword("the account's email and names") })
  .openapi('PasswordChange');

export const VERIFY_EMAIL = z.object({ token: z.string().min(1).max(128).describe('From the link in the mail (after `#token=`)') }).openapi('VerifyEmail');

export const EMAIL_CHANGE = z.object({ email: EMAIL, current_password: z.string().min(1).max(1024) }).openapi('EmailChange');

export const EMAIL_CHECK_SENT = z.object({ status: z.enum(['sent', 'already_verified']) }).openapi('EmailCheckSent');

export { EMAIL };

const ROLE = z.enum(['owner', 'admin', 'member', 'viewer'], { error: 'must be one of: owner, admin, member, viewer' });

export const MEMBER = z
  .object({
    id: z.uuid(),
    email: z.string(),
    first_name: z.string(),
    last_name: z.string(),
    role: ROLE,
    email_verified: z.boolean(),
    last_login_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('Member');

export const MEMBER_ROLE_CHANGE = z.object({ role: ROLE }).openapi('MemberRoleChange');

export const INVITATION_CREATE = z.object({ email: EMAIL, role: ROLE }).openapi('InvitationCreate');

export const INVITATION = z
  .object({
    id: z.uuid(),
    email: z.string(),
    role: ROLE,
    invited_by: z.uuid().nullable(),
    expires_at: z.string(),
    created_at: z.string(),
  })
  .openapi('Invitation');

export const INVITATION_ACCEPT = z
  .object({
    token: z.string().min(1).max(128).describe('From the link in the mail (after `#token=`)'),
    first_name: z.string().trim().min(1).max(100),
    last_name: z.string().trim().min(1).max(100),
    password: newPassword('the invited email and the names given here'),
  })
  .openapi('InvitationAccept');

export const AUDIT_ENTRY = z
  .object({
    id: z.uuid(),
    action: z.string(),
    actor: z.object({ user_id: z.uuid().nullable(), api_key_id: z.uuid().nullable() }).describe('Who did it (a removed user shows as null)'),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).describe('Facts about the event; never secrets'),
    created_at: z.string(),
  })
  .openapi('AuditEntry');

export const AUDIT_PAGE = z.object({ data: z.array(AUDIT_ENTRY), next_cursor: z.string().nullable() }).openapi('AuditPage');
