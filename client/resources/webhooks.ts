/** Webhook endpoints and their deliveries. */
import type {
  CreateWebhookInput,
  RotateWebhookSecretInput,
  RotatedWebhookSecret,
  UpdateWebhookInput,
  WebhookDelivery,
  WebhookDeliveryPage,
  WebhookDeliveryQuery,
  WebhookDeliveryWithPayload,
  WebhookEndpoint,
  WebhookEndpointWithSecret,
} from '../api-types.ts';
import type { HttpClient } from '../http.ts';

const path = (id: string) => `/api/webhooks/${encodeURIComponent(id)}`;

export class WebhooksResource {
  constructor(private readonly http: HttpClient) {}

  /** Registers an endpoint; the answer's `secret` (`whsec_…`) is shown only this once. */
  async create(input: CreateWebhookInput): Promise<WebhookEndpointWithSecret> {
    return (await this.http.request<WebhookEndpointWithSecret>('POST', '/api/webhooks', { body: input })).body;
  }

  async list(): Promise<WebhookEndpoint[]> {
    return (await this.http.request<{ data: WebhookEndpoint[] }>('GET', '/api/webhooks')).body.data;
  }

  async get(id: string): Promise<WebhookEndpoint> {
    return (await this.http.request<WebhookEndpoint>('GET', path(id))).body;
  }

  async update(id: string, input: UpdateWebhookInput): Promise<WebhookEndpoint> {
    return (await this.http.request<WebhookEndpoint>('PATCH', path(id), { body: input })).body;
  }

  async delete(id: string): Promise<void> {
    await this.http.request('DELETE', path(id));
  }

  /** A new signing secret; the previous one keeps signing alongside it for `previous_secret_ttl_s`. */
  async rotateSecret(id: string, input: RotateWebhookSecretInput = {}): Promise<RotatedWebhookSecret> {
    return (await this.http.request<RotatedWebhookSecret>('POST', `${path(id)}/rotate-secret`, { body: input })).body;
  }

  /** Sends a `webhook.test` event to the endpoint; resolves with its delivery. */
  async test(id: string): Promise<WebhookDelivery> {
    return (await this.http.request<WebhookDelivery>('POST', `${path(id)}/test`, { body: {} })).body;
  }

  /** One page of an endpoint's deliveries, newest first. */
  async deliveries(id: string, query: WebhookDeliveryQuery = {}): Promise<WebhookDeliveryPage> {
    return (await this.http.request<WebhookDeliveryPage>('GET', `${path(id)}/deliveries`, { query: { ...query } })).body;
  }

  /** Every delivery of an endpoint, page by page. */
  async *allDeliveries(id: string, query: Omit<WebhookDeliveryQuery, 'cursor'> = {}): AsyncGenerator<WebhookDelivery> {
    let cursor: string | undefined;
    do {
      const page = await this.deliveries(id, { ...query, cursor });
      yield* page.data;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  /** One delivery, with the event payload exactly as sent. */
  async delivery(id: string, deliveryId: string): Promise<WebhookDeliveryWithPayload> {
    return (await this.http.request<WebhookDeliveryWithPayload>('GET', `${path(id)}/deliveries/${encodeURIComponent(deliveryId)}`)).body;
  }

  /** Sends a delivery's event again now (same `webhook-id`); resolves with the delivery after the attempt. */
  async redeliver(id: string, deliveryId: string): Promise<WebhookDelivery> {
    return (
      await this.http.request<WebhookDelivery>('POST', `${path(id)}/deliveries/${encodeURIComponent(deliveryId)}/redeliver`, { body: {} })
    ).body;
  }
}
