/**
 * A tarpit endpoint: accepts TCP connections, reads what arrives and never answers, like an
 * abusive or broken receiver. Counts the connections it holds open.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class Tarpit {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Connections accepted so far. */
  accepted = 0;

  async start(): Promise<this> {
    const server = createServer((socket) => {
      this.accepted++;
      this.sockets.add(socket);
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/hook`;
  }

  /** Connections held open right now. */
  get open(): number {
    return this.sockets.size;
  }

  /** Resolves once `n` connections are open at the same time (or rejects after `timeoutMs`). */
  async waitForOpen(n: number, timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.open < n) {
      if (Date.now() > until) throw new Error(`The tarpit holds ${this.open} connections, not ${n}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
