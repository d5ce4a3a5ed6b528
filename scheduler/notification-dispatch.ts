/**
 * Mails the notifications the outbox holds (`shared/notifications/record.ts`). Each run claims up
 * to `limit` undispatched rows with `for update skip locked`, so scheduler processes running it at
 * once take different rows; for each it finds the tenant's users whose settings want the topic,
 * queues one message per user on the mail queue (sent with retries by `mail-sender.ts`), and marks
 * the row dispatched in the same transaction. A message's queue id is the notification and the
 * user: should the commit fail after queuing, the next run queues the same ids again and BullMQ
 * keeps one while it waits (see docs/architecture.md › Notifications).
 */
import type { Knex } from 'knex';
import type { Role } from '../shared/auth/principal.ts';
import type { Db } from '../shared/db.ts';
import type { MailOutbox } from '../shared/mail/mail-queue.ts';
import type { MailParams } from '../shared/mail/templates.ts';
import { effectiveSettings, NOTIFICATION_KINDS, type NotificationKind, type StoredSettings } from '../shared/notifications/topics.ts';

interface PendingNotification {
  id: string;
  tenant_id: string;
  kind: NotificationKind;
  params: Record<string, string>;
  tenant_name: string;
}

interface Recipient {
  id: string;
  email: string;
  first_name: string;
  role: Role;
  notification_settings: StoredSettings;
}

export interface DispatchReport {
  notifications: number;
  messages: number;
}

/** One run: claims, mails and marks up to `limit` notifications (oldest first). */
export async function dispatchNotifications(db: Db, mail: MailOutbox, options: { limit: number }): Promise<DispatchReport> {
  return db.transaction(async (trx) => {
    const pending = (await trx('notifications as n')
      .join('tenants as t', 't.id', 'n.tenant_id')
      .whereNull('n.dispatched_at')
      .orderBy('n.created_at')
      .limit(options.limit)
      .forUpdate('n')
      .skipLocked()
      .select('n.id', 'n.tenant_id', 'n.kind', 'n.params', 't.name as tenant_name')) as PendingNotification[];
    let messages = 0;
    for (const notification of pending) {
      const sent = await mailOne(trx, mail, notification);
      await trx('notifications').where({ id: notification.id }).update({ dispatched_at: trx.fn.now(), recipients: sent });
      messages += sent;
    }
    return { notifications: pending.length, messages };
  });
}

async function mailOne(trx: Knex.Transaction, mail: MailOutbox, notification: PendingNotification): Promise<number> {
  const { topic, template } = NOTIFICATION_KINDS[notification.kind];
  const users = (await trx('users')
    .where({ tenant_id: notification.tenant_id })
    .orderBy('created_at')
    .select('id', 'email', 'first_name', 'role', 'notification_settings')) as Recipient[];
  const recipients = users.filter((u) => effectiveSettings(u.role, u.notification_settings)[topic]);
  for (const user of recipients) {
    const params = { ...notification.params, tenant_name: notification.tenant_name, first_name: user.first_name };
    // The params were checked against the template when the event was recorded.
    await mail.send(template, user.email, params as MailParams<typeof template>, { jobId: `notification-${notification.id}-${user.id}` });
  }
  return recipients.length;
}
