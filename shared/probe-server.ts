/**
 * A small HTTP server for roles without the API (worker, scheduler): `/live`, `/ready`, `/health`
 * and `/metrics` on METRICS_PORT, for Kubernetes probes and Prometheus. `/metrics` needs
 * `Authorization: Bearer $METRICS_TOKEN` when that is set.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkHealth } from './health.ts';
import { listen } from './listen.ts';
import { registry, setQueueCountsSource } from './metrics.ts';
import { queueCatalogFor } from './queue-catalog.ts';
import { queueCountsSource } from './queue-counts.ts';
import { bearerMatches } from './safe-equal.ts';
import type { Runtime } from './runtime.ts';
import { once, type Service } from './service.ts';

export interface ProbeServerOptions {
  /**
   * Report queue depth (`catalytic_jobs_waiting`, `catalytic_queue_jobs`, …) from this process.
   * The scheduler does; workers, which scale out, leave it to the API and the scheduler.
   * @defaultValue false
   */
  queueCounts?: boolean;
}

export class ProbeServer implements Service {
  readonly name = 'probe-server';
  private server: Server | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly options: ProbeServerOptions = {},
  ) {}

  async start(): Promise<void> {
    if (this.options.queueCounts) setQueueCountsSource(queueCountsSource(queueCatalogFor(this.runtime)));
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.runtime.logger.error({ err }, 'probe request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    this.server = server;
    const { config } = this.runtime;
    await listen(server, config.METRICS_PORT, config.HOST, 'METRICS_PORT');
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.runtime.config.METRICS_PORT;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/live') return json(res, 200, { status: 'ok' });
    if (path === '/ready' || path === '/health') {
      const report = await checkHealth(this.runtime);
      if (path === '/health') return json(res, 200, report);
      return json(res, report.status === 'ok' ? 200 : 503, { status: report.status, dependencies: report.dependencies });
    }
    if (path === '/metrics') {
      const token = this.runtime.config.METRICS_TOKEN;
      if (!bearerMatches(token, req.headers.authorization)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
        return json(res, 401, { status: 'unauthorized' });
      }
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(await registry.metrics());
      return;
    }
    json(res, 404, { status: 'not_found' });
  }

  readonly close = once(async () => {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
