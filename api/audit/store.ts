/** The audit log's reads: a tenant's entries, newest first, by keyset over (created_at, id). */
import type { Knex } from 'knex';
import type { ListCursor } from '../../shared/list-cursor.ts';

export interface AuditRow {
  id: string;
  action: string;
  user_id: string | null;
  api_key_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  created_at: Date;
  cursor_at: string;
}

export interface AuditFilter {
  limit: number;
  after?: ListCursor;
  actions?: readonly string[];
  actor?: string;
}

export async function listAudit(trx: Knex.Transaction, tenantId: string, filter: AuditFilter): Promise<{ rows: AuditRow[]; next?: ListCursor }> {
  const query = trx('audit_log')
    .where({ tenant_id: tenantId })
    .select<AuditRow[]>(
      'id',
      'action',
      'user_id',
      'api_key_id',
      'ip',
      'user_agent',
      'details',
      'created_at',
      trx.raw(`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at`),
    )
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(filter.limit + 1);
  if (filter.actions?.length) query.whereIn('action', filter.actions);
  if (filter.actor) query.andWhere('user_id', filter.actor);
  if (filter.after) query.andWhereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [filter.after.at, filter.after.id]);
  const rows = await query;
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > filter.limit && last ? { at: last.cursor_at, id: last.id } : undefined };
}
