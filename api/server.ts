/**
 * Serves the API over HTTP. Closing drains: new requests get 503, idle keep-alive sockets are
 * closed, requests in flight finish, and the rest are cut at the grace deadline.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { publicUrl } from '../shared/config.ts';
import { listen } from '../shared/listen.ts';
import { setQueueCountsSource } from '../shared/metrics.ts';
import { queueCountsSource } from '../shared/queue-counts.ts';
import { once, type Service } from '../shared/service.ts';
import { createApp } from './app.ts';
import { answerClientErrors, requireHost } from './client-errors.ts';
import type { DrainSwitch } from './middleware/draining.ts';
import type { ApiDeps } from './state.ts';

export class ApiServer implements Service {
  readonly name = 'api';
  private readonly drain: DrainSwitch = { draining: false };
  private server: Server | undefined;
  private uninstallQueueCounts: (() => void) | undefined;

  constructor(private readonly deps: ApiDeps) {}

  async start(): Promise<void> {
    const { config } = this.deps.runtime;
    const app = createApp(this.deps, this.drain);
    // Node enforces the timeouts below on this interval (30 s by default, which would let a slow
    // client hold a socket for up to 40 s past a 10 s headers timeout).
    const server = createServer({ connectionsCheckingInterval: 1_000, requireHostHeader: false }, requireHost(app.callback()));
    // Slow clients cannot hold a socket open for ever (slowloris).
    server.requestTimeout = config.HTTP_REQUEST_TIMEOUT_MS;
    server.headersTimeout = config.HTTP_HEADERS_TIMEOUT_MS;
    server.keepAliveTimeout = 5_000;
    answerClientErrors(server);
    this.server = server;
    // The process's metrics report queue depth from this API's catalog while it runs.
    this.uninstallQueueCounts = setQueueCountsSource(queueCountsSource(this.deps.queues));
    await listen(server, config.PORT, config.HOST, 'PORT');
  }

  /** The bound port (useful when PORT=0). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.deps.runtime.config.PORT;
  }

  /** Where clients reach the API. */
  get url(): string {
    const { config } = this.deps.runtime;
    return config.PUBLIC_URL ? publicUrl(config) : publicUrl({ ...config, PORT: this.port });
  }

  readonly close = once(async () => {
    const server = this.server;
    if (!server) return;
    this.drain.draining = true;
    // Held long polls answer now rather than hold the close for their whole wait.
    this.deps.jobs.heldPolls.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = setTimeout(() => server.closeAllConnections(), this.deps.runtime.config.SHUTDOWN_GRACE_MS);
    await closed;
    clearTimeout(deadline);
    this.uninstallQueueCounts?.();
    // API calls counted in memory are written, and queues and watchers closed, before the process
    // lets go of its connections.
    await this.deps.close();
  });
}
