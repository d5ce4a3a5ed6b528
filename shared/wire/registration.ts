/** Wire schemas of sign-up (`POST /api/tenants/register`): what it takes and what it answers. */
import './openapi-zod.ts';
import { z } from 'zod';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, PASSWORD_MIN_SCORE, passwordWeakness } from '../auth/passwords.ts';
import { PLAN_REQUEST } from './billing.ts';
import { EMAIL, PASSWORD, PLAN_CODE, TENANT, text, TOKEN_PAIR, USER } from './identity.ts';

export const REGISTRATION = z
  .object({
    company_name: text(200),
    email: EMAIL,
    password: PASSWORD.describe(
      `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters and hard to guess: a zxcvbn score of ${PASSWORD_MIN_SCORE} or more, with the email, the names and the company counted as known words (400 \`validation_failed\` naming \`body.password\` otherwise)`,
    ),
    first_name: text(100),
    last_name: text(100),
    plan_code: PLAN_CODE,
  })
  .superRefine((body, ctx) => {
    const weakness = passwordWeakness(body.password, [body.email, body.first_name, body.last_name, body.company_name]);
    if (weakness) ctx.addIssue({ code: 'custom', path: ['password'], message: weakness });
  })
  .openapi('Registration');

export const REGISTERED = z
  .object({
    tenant: TENANT,
    user: USER,
    tokens: TOKEN_PAIR,
    plan_request: z
      .union([PLAN_REQUEST, z.null()])
      .describe('Null: a paid plan asked for at sign-up becomes a plan request when the owner confirms the address (see requested_plan)'),
    requested_plan: z
      .string()
      .nullable()
      .describe('The paid plan asked for: the tenant starts on free, and the request awaits approval once the address is confirmed'),
  })
  .openapi('Registered');

export type RegistrationInput = z.output<typeof REGISTRATION>;
