/**
 * A customer's webhook endpoints on one HTTP server (one path per endpoint): every request is
 * verified with the `standardwebhooks` verifier against its endpoint's secret, and recorded by
 * `webhook-id`. A hook decides each answer (and may hold it), so a suite can fail first attempts
 * or catch a sender in the middle of a retry.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One event (one `webhook-id`) as the receiver saw it. */
export interface ReceivedEvent {
  webhookId: string;
  /** The endpoint's path. */
  path: string;
  type: string;
  jobId: string | undefined;
  /** The job's status in the payload. */
  jobStatus: string | undefined;
  /** Requests carrying this id (retries of one event share it). */
  requests: number;
  /** Requests whose signature verified. */
  verified: number;
  /** Requests answered with 2xx. */
  accepted: number;
}

/** What the answer hook is told about a request. */
export interface IncomingDelivery {
  webhookId: string;
  path: string;
  type: string;
  jobId: string | undefined;
  /** 0 for the first request with this id, 1 for the first retry, … */
  nth: number;
  verified: boolean;
  /** The sender's TCP port (to find the sending process). */
  remotePort: number;
}

export interface WebhookReceiverOptions {
  /** The status to answer (may wait); 200 unless told otherwise. */
  respond?: (delivery: IncomingDelivery) => number | Promise<number>;
}

interface Payload {
  type?: string;
  data?: { job?: { id?: string; status?: string } };
}

export class WebhookReceiver {
  readonly events = new Map<string, ReceivedEvent>();
  /** Every request, in arrival order. */
  requests = 0;
  /** Requests whose signature did not verify (must stay 0). */
  unverified = 0;
  private readonly secrets = new Map<string, string>();
  private server: Server | undefined;

  constructor(private readonly options: WebhookReceiverOptions = {}) {}

  /** Sets the secret of the endpoint at `path` (known once the endpoint is created). */
  setSecret(path: string, secret: string): void {
    this.secrets.set(path, secret);
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void this.handle(req.url ?? '/', req.headers as Record<string, string>, Buffer.concat(chunks).toString('utf8'), req.socket.remotePort ?? 0).then(
          (status) => {
            if (res.destroyed) return;
            res.writeHead(status, { 'content-type': 'text/plain' });
            res.end(status < 300 ? 'ok' : 'try again');
          },
          () => res.destroy(),
        );
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  private async handle(path: string, headers: Record<string, string>, body: string, remotePort: number): Promise<number> {
    this.requests++;
    const webhookId = headers['webhook-id'] ?? '';
    let verified = false;
    const secret = this.secrets.get(path);
    if (secret) {
      try {
        new Webhook(secret).verify(body, headers);
        verified = true;
      } catch {
        verified = false;
      }
    }
    if (!verified) this.unverified++;
    let payload: Payload = {};
    try {
      payload = JSON.parse(body) as Payload;
    } catch {
      // Recorded as an event without a type; the suite's checks will notice.
    }
    let event = this.events.get(webhookId);
    if (!event) {
      event = {
        webhookId,
        path,
        type: payload.type ?? '',
        jobId: payload.data?.job?.id,
        jobStatus: payload.data?.job?.status,
        requests: 0,
        verified: 0,
        accepted: 0,
      };
      this.events.set(webhookId, event);
    }
    const nth = event.requests++;
    if (verified) event.verified++;
    const status = await (this.options.respond?.({ webhookId, path, type: event.type, jobId: event.jobId, nth, verified, remotePort }) ?? 200);
    if (status >= 200 && status < 300) event.accepted++;
    return status;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  /** The URL of the endpoint at `path`, e.g. `url('/tenant-1')`. */
  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }
}
