/**
 * The SQL of webhook endpoints and their deliveries, as the API reads and writes them. Every
 * function runs inside the caller's `withTenant` transaction (row-level security) and filters by
 * tenant in code as well.
 */
import type { Knex } from 'knex';
import type { ListCursor } from '../../shared/list-cursor.ts';
import { DELIVERY_COLUMNS, type DeliveryRow, ENDPOINT_COLUMNS, type EndpointRow } from './serialize.ts';

/** A delivery as listed: its columns and its creation time as the list cursor prints it. */
export type ListedDelivery = DeliveryRow & { cursor_at: string };

/** The columns a new endpoint is written with. */
export interface NewEndpoint {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  /** The signing secret, sealed for this endpoint's id. */
  sealedSecret: string;
}

export function findEndpoint(trx: Knex.Transaction, tenantId: string, id: string): Promise<EndpointRow | undefined> {
  return trx('webhooks').where({ tenant_id: tenantId, id }).first<EndpointRow | undefined>(ENDPOINT_COLUMNS);
}

export async function countEndpoints(trx: Knex.Transaction, tenantId: string): Promise<number> {
  const [counted] = await trx('webhooks').where({ tenant_id: tenantId }).count<Array<{ count: number }>>({ count: '*' });
  return Number(counted?.count ?? 0);
}

export async function insertEndpoint(trx: Knex.Transaction, tenantId: string, endpoint: NewEndpoint): Promise<EndpointRow> {
  const [created] = await trx('webhooks')
    .insert({
      id: endpoint.id,
      tenant_id: tenantId,
      url: endpoint.url,
      events: endpoint.events,
      description: endpoint.description,
      enabled: endpoint.enabled,
      secret: endpoint.sealedSecret,
    })
    .returning<EndpointRow[]>(ENDPOINT_COLUMNS);
  return created as EndpointRow;
}

/** The tenant's endpoints, oldest first. */
export function listEndpoints(trx: Knex.Transaction, tenantId: string): Promise<EndpointRow[]> {
  return trx('webhooks').where({ tenant_id: tenantId }).orderBy([{ column: 'created_at' }, { column: 'id' }]).select<EndpointRow[]>(ENDPOINT_COLUMNS);
}

export async function updateEndpoint(trx: Knex.Transaction, tenantId: string, id: string, changes: Record<string, unknown>): Promise<EndpointRow> {
  const [updated] = await trx('webhooks')
    .where({ tenant_id: tenantId, id })
    .update({ ...changes, updated_at: trx.fn.now() })
    .returning<EndpointRow[]>(ENDPOINT_COLUMNS);
  return updated as EndpointRow;
}

/** Deletes an endpoint and its deliveries. */
export async function deleteEndpoint(trx: Knex.Transaction, tenantId: string, id: string): Promise<void> {
  // Deliveries first: an attempt in flight holds its delivery's lock and then touches the
  // endpoint, so taking the locks in the same order cannot deadlock with it.
  await trx('webhook_deliveries').where({ tenant_id: tenantId, webhook_id: id }).delete();
  await trx('webhooks').where({ tenant_id: tenantId, id }).delete();
}

/**
 * Replaces an endpoint's secret; the current one becomes the previous secret for `ttlS` seconds
 * (none when 0). Returns when the previous secret stops signing.
 */
export async function rotateEndpointSecret(
  trx: Knex.Transaction,
  tenantId: string,
  id: string,
  sealedSecret: string,
  ttlS: number,
): Promise<Date | null> {
  const [row] = await trx('webhooks')
    .where({ tenant_id: tenantId, id })
    .update({
      // Both sealed for this endpoint: the current ciphertext simply moves over.
      previous_secret: ttlS > 0 ? trx.ref('secret') : null,
      previous_secret_expires_at: ttlS > 0 ? trx.raw('now() + make_interval(secs => ?)', [ttlS]) : null,
      secret: sealedSecret,
      updated_at: trx.fn.now(),
    })
    .returning<Array<{ previous_secret_expires_at: Date | null }>>('previous_secret_expires_at');
  return row?.previous_secret_expires_at ?? null;
}

/** A page of an endpoint's deliveries, newest first, and the cursor of the next page. */
export async function listDeliveries(
  trx: Knex.Transaction,
  tenantId: string,
  webhookId: string,
  options: { limit: number; status?: string; after?: ListCursor },
): Promise<{ rows: ListedDelivery[]; next?: ListCursor }> {
  const q = trx('webhook_deliveries')
    .where({ tenant_id: tenantId, webhook_id: webhookId })
    .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
    .limit(options.limit + 1)
    .select<ListedDelivery[]>([
      ...DELIVERY_COLUMNS,
      trx.raw(`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at`),
    ]);
  if (options.status) void q.where({ status: options.status });
  if (options.after) void q.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [options.after.at, options.after.id]);
  const rows = await q;
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return { rows: page, next: rows.length > options.limit && last ? { at: last.cursor_at, id: last.id } : undefined };
}

/** A delivery by id, of one endpoint when `webhookId` is given; with the payload when asked. */
export function findDelivery(
  trx: Knex.Transaction,
  tenantId: string,
  where: { id: string; webhookId?: string },
  options: { payload?: boolean } = {},
): Promise<DeliveryRow | undefined> {
  return trx('webhook_deliveries')
    .where({ tenant_id: tenantId, id: where.id, ...(where.webhookId === undefined ? {} : { webhook_id: where.webhookId }) })
    .first<DeliveryRow | undefined>(options.payload ? [...DELIVERY_COLUMNS, 'payload'] : DELIVERY_COLUMNS);
}
