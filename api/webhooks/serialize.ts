/** Rows of `webhooks` and `webhook_deliveries` as the API shows them (never the secrets). */

export interface EndpointRow {
  id: string;
  tenant_id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  disabled_reason: string | null;
  failing_since: Date | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface DeliveryRow {
  id: string;
  tenant_id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  job_id: string | null;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  next_attempt_at: Date | null;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  last_latency_ms: number | null;
  last_error: string | null;
  payload?: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

/** Columns read for an endpoint (the secrets stay in the database). */
export const ENDPOINT_COLUMNS = [
  'id',
  'tenant_id',
  'url',
  'description',
  'events',
  'enabled',
  'disabled_reason',
  'failing_since',
  'previous_secret_expires_at',
  'created_at',
  'updated_at',
] as const;

export const DELIVERY_COLUMNS = [
  'id',
  'tenant_id',
  'webhook_id',
  'event_id',
  'event_type',
  'job_id',
  'status',
  'attempts',
  'next_attempt_at',
  'last_attempt_at',
  'last_status_code',
  'last_latency_ms',
  'last_error',
  'created_at',
  'updated_at',
] as const;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function endpointJson(row: EndpointRow) {
  const rotating = row.previous_secret_expires_at && row.previous_secret_expires_at.getTime() > Date.now();
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    failing_since: iso(row.failing_since),
    previous_secret_expires_at: rotating ? iso(row.previous_secret_expires_at) : null,
    created_at: iso(row.created_at) as string,
    updated_at: iso(row.updated_at) as string,
  };
}

export function deliveryJson(row: DeliveryRow) {
  return {
    id: row.id,
    webhook_id: row.webhook_id,
    event_id: row.event_id,
    event_type: row.event_type,
    job_id: row.job_id,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: iso(row.next_attempt_at),
    last_attempt_at: iso(row.last_attempt_at),
    last_status_code: row.last_status_code,
    last_latency_ms: row.last_latency_ms,
    last_error: row.last_error,
    created_at: iso(row.created_at) as string,
    updated_at: iso(row.updated_at) as string,
    ...(row.payload ? { payload: row.payload } : {}),
  };
}
