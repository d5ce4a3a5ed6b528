/**
 * Wire schemas of the account routes (password reset and change; team members and invitations;
 * the audit log): the API validates and documents with them, and the SDK takes its types from them.
 */
import './openapi-zod.ts';
import { z } from 'zod';
import { EMAIL, PASSWORD } from './identity.ts';

export const PASSWORD_RESET_REQUEST = z.object({ email: z.string().trim().min(1).max(254) }).openapi('PasswordResetRequest');

export const PASSWORD_RESET_ACCEPTED = z
  .object({ status: z.literal('accepted'), detail: z.string() })
  .openapi('PasswordResetAccepted');

export const PASSWORD_RESET_CONFIRM = z
  .object({ token: z.string().min(1).max(128).describe('From the link in the mail (after `#token=`)'), password: PASSWORD })
  .openapi('PasswordResetConfirm');

export const PASSWORD_CHANGE = z
  .object({ current_password: z.string().min(1).max(1024), new_password: PASSWORD })
  .openapi('PasswordChange');

export { EMAIL };
