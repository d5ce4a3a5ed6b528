/**
 * Records a notification in the outbox (`notifications`); the scheduler mails it
 * (`scheduler/notification-dispatch.ts`). Call it in the transaction of the event, so a rolled-back
 * event notifies nobody. The key names the event: recording it again — another process, a retried
 * transaction, the next quota check — adds nothing.
 */
import type { Knex } from 'knex';
import type { MailParams } from '../mail/templates.ts';
import type { NOTIFICATION_KINDS, NotificationKind } from './topics.ts';

/** The template parameters a kind needs besides the recipient's first name and the tenant's name (added when it is mailed). */
export type NotificationParams<K extends NotificationKind> = Omit<MailParams<(typeof NOTIFICATION_KINDS)[K]['template']>, 'first_name' | 'tenant_name'>;

export interface NotificationEvent<K extends NotificationKind> {
  tenantId: string;
  kind: K;
  key: string;
  params: NotificationParams<K>;
}

/** Inserts the event once; true when this call inserted it. */
export async function recordNotification<K extends NotificationKind>(db: Knex | Knex.Transaction, event: NotificationEvent<K>): Promise<boolean> {
  const inserted = await db('notifications')
    .insert({ tenant_id: event.tenantId, kind: event.kind, key: event.key, params: JSON.stringify(event.params) })
    .onConflict(['tenant_id', 'key'])
    .ignore()
    .returning('id');
  return inserted.length > 0;
}
