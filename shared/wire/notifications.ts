/**
 * Wire schemas of `GET|PATCH /api/me/notifications`: which notifications the caller is mailed.
 * The API validates and documents with them, and the SDK takes its types from them.
 */
import './openapi-zod.ts';
import { z } from 'zod';

const TOPIC_DESCRIPTIONS = {
  plan_requests: 'An operator approved or rejected a plan request of the tenant',
  webhooks: 'A webhook endpoint was disabled after failing for WEBHOOK_DISABLE_AFTER_MS (or answering 410)',
  quotas: "A monthly quota (API calls, jobs, compute units) or the storage quota reached 80% or 100%",
} as const;

export const NOTIFICATION_SETTINGS = z
  .object({
    plan_requests: z.boolean().describe(TOPIC_DESCRIPTIONS.plan_requests),
    webhooks: z.boolean().describe(TOPIC_DESCRIPTIONS.webhooks),
    quotas: z.boolean().describe(TOPIC_DESCRIPTIONS.quotas),
  })
  .openapi('NotificationSettings');

export const NOTIFICATION_PREFERENCES = z
  .object({
    email: z.string().describe('Where the mail goes'),
    settings: NOTIFICATION_SETTINGS.describe('What you are mailed about now (your choices, the defaults for the rest)'),
    defaults: NOTIFICATION_SETTINGS.describe('What your role gets when you have not chosen: all on for owners, off for the others'),
  })
  .openapi('NotificationPreferences');

export const NOTIFICATION_PREFERENCES_CHANGE = z
  .strictObject({
    plan_requests: z.boolean().optional(),
    webhooks: z.boolean().optional(),
    quotas: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { error: 'name at least one of: plan_requests, webhooks, quotas' })
  .openapi('NotificationPreferencesChange', { minProperties: 1 });

export type NotificationPreferences = z.infer<typeof NOTIFICATION_PREFERENCES>;
export type NotificationPreferencesChange = z.infer<typeof NOTIFICATION_PREFERENCES_CHANGE>;
