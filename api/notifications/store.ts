/** The SQL of a user's notification choices (`users.notification_settings`). */
import type { Knex } from 'knex';
import type { Role } from '../../shared/auth/principal.ts';
import type { StoredSettings } from '../../shared/notifications/topics.ts';

export interface SettingsRow {
  email: string;
  role: Role;
  notification_settings: StoredSettings;
}

export async function readSettings(trx: Knex.Transaction, tenantId: string, userId: string): Promise<SettingsRow | undefined> {
  return trx('users').where({ tenant_id: tenantId, id: userId }).first<SettingsRow | undefined>('email', 'role', 'notification_settings');
}

/** Merges `changes` into the stored choices, in one statement (two changes at once both land). */
export async function mergeSettings(trx: Knex.Transaction, tenantId: string, userId: string, changes: StoredSettings): Promise<SettingsRow | undefined> {
  const [row] = await trx('users')
    .where({ tenant_id: tenantId, id: userId })
    .update({ notification_settings: trx.raw('notification_settings || ?::jsonb', [JSON.stringify(changes)]), updated_at: trx.fn.now() })
    .returning<SettingsRow[]>(['email', 'role', 'notification_settings']);
  return row;
}
