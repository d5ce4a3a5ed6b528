/**
 * A webhook receiver for tests: a real HTTP server that verifies every request with the
 * `standardwebhooks` verifier (as a customer would) and answers as the test scripts it.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedRequest {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The secrets (by index in `secrets()`) whose signature verified. */
  verifiedWith: number[];
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  delayMs?: number;
}

export interface ReceiverOptions {
  /** Secrets to verify against, read at each request (they may be set after start). */
  secrets?: () => string[];
  /** The answer to the n-th request (0-based) for its `webhook-id`. @defaultValue 200 */
  respond?: (request: ReceivedRequest, nthForEvent: number) => ScriptedResponse;
  /** @defaultValue 127.0.0.1 */
  host?: string;
}

export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  private server: Server | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly options: ReceiverOptions = {}) {}

  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const verifiedWith: number[] = [];
        (this.options.secrets?.() ?? []).forEach((secret, i) => {
          try {
            new Webhook(secret).verify(body, req.headers as Record<string, string>);
            verifiedWith.push(i);
          } catch {
            // not signed with this secret
          }
        });
        const request: ReceivedRequest = { at: Date.now(), path: req.url ?? '/', headers: req.headers, body, verifiedWith };
        const eventId = String(req.headers['webhook-id'] ?? '');
        const nth = this.requests.filter((r) => r.headers['webhook-id'] === eventId).length;
        this.requests.push(request);
        const answer = this.options.respond?.(request, nth) ?? { status: 200 };
        const send = () => {
          res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
          res.end('ok');
          for (const wake of this.waiters) wake();
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, this.options.host ?? '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  /** `http://<host>:<port>/hook` (IPv6 hosts in brackets). */
  get url(): string {
    const host = this.options.host ?? '127.0.0.1';
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}/hook`;
  }

  forEvent(eventId: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.headers['webhook-id'] === eventId);
  }

  /** Resolves once `predicate` holds (checked after each answered request). */
  waitFor(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`receiver: condition not met within ${timeoutMs} ms (${this.requests.length} requests)`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
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

/** Polls `fn` until it returns a value other than undefined. */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
