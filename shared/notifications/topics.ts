/**
 * What a user may be mailed about, and who is by default. Each notification kind belongs to one
 * topic a user turns on or off (`PATCH /api/me/notifications`); a topic the user never set follows
 * the default: on for owners, off for everyone else. See docs/http-api.md › Notifications.
 */
import type { Role } from '../auth/principal.ts';
import type { MailTemplate } from '../mail/templates.ts';

/** The topics a user chooses. */
export const NOTIFICATION_TOPICS = ['plan_requests', 'webhooks', 'quotas'] as const;
export type NotificationTopic = (typeof NOTIFICATION_TOPICS)[number];

/** Each kind of notification: its topic and the mail template that tells it. */
export const NOTIFICATION_KINDS = {
  plan_request_decided: { topic: 'plan_requests', template: 'plan-request-decided' },
  webhook_disabled: { topic: 'webhooks', template: 'webhook-disabled' },
  quota_warning: { topic: 'quotas', template: 'quota-warning' },
} as const satisfies Record<string, { topic: NotificationTopic; template: MailTemplate }>;
export type NotificationKind = keyof typeof NOTIFICATION_KINDS;

/** The choices a user made, as stored (`users.notification_settings`). */
export type StoredSettings = Partial<Record<NotificationTopic, boolean>>;

/** Whether a user with `role` and these stored choices gets mail on each topic. */
export function effectiveSettings(role: Role, stored: StoredSettings | null | undefined): Record<NotificationTopic, boolean> {
  const byDefault = role === 'owner';
  return Object.fromEntries(NOTIFICATION_TOPICS.map((topic) => [topic, stored?.[topic] ?? byDefault])) as Record<NotificationTopic, boolean>;
}
