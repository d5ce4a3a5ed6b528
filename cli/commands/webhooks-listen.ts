/**
 * `catalytic webhooks listen`: a receiver on this machine for development. It registers a
 * temporary endpoint pointing at itself, verifies every delivery's signature with the endpoint's
 * secret, prints each event as it arrives, and removes the endpoint when stopped.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { Webhook } from 'standardwebhooks';
import { JOB_EVENT_TYPES } from '../../shared/webhooks/job-events.ts';
import { parseCount, parseList } from './arguments.ts';
import { UsageError } from './cli-errors.ts';
import { clientAction, clientCommand, type Session } from './session.ts';

/** A delivery larger than this is refused: events are small JSON documents. */
const MAX_EVENT_BYTES = 1024 * 1024;
const DESCRIPTION = 'catalytic webhooks listen (temporary)';

interface ListenOptions {
  port?: number;
  events?: string[];
}

interface EventPayload {
  id?: string;
  type?: string;
  data?: { job?: { id?: string; status?: string; type?: string } };
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_EVENT_BYTES) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** One line for an event: when, what, and the job it is about. */
function describeEvent(event: EventPayload): string {
  const job = event.data?.job;
  const about = job ? `  job ${job.id ?? '?'} ${job.type ?? ''} ${job.status ?? ''}`.trimEnd() : '';
  return `${new Date().toISOString()}  ${event.type ?? 'unknown'}  ${event.id ?? ''}${about}`;
}

function receiver(session: Session, verify: () => Webhook | undefined): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      const body = req.method === 'POST' ? await readBody(req) : undefined;
      const verifier = verify();
      if (body === undefined || !verifier) {
        res.writeHead(body === undefined ? 413 : 503).end();
        return;
      }
      let event: EventPayload;
      try {
        event = verifier.verify(body, req.headers as Record<string, string>) as EventPayload;
      } catch {
        session.note(`${new Date().toISOString()}  refused a request whose signature does not verify`);
        res.writeHead(400).end();
        return;
      }
      res.writeHead(204).end();
      if (session.json) session.out(JSON.stringify(event));
      else session.out(describeEvent(event));
    })().catch(() => res.writeHead(500).end());
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new UsageError(`--port: ${port} is already in use`) : err),
    );
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function registerWebhookListen(webhooks: Command): void {
  clientCommand(webhooks, 'listen', 'receive events on this machine: a temporary endpoint, signatures verified, events printed until Ctrl-C')
    .option('--port <n>', 'local port to listen on (default: any free port)', parseCount)
    .option('--events <list>', `comma-separated: ${JOB_EVENT_TYPES.join(', ')} (default: all)`, parseList)
    .addHelpText('after', '\nThe API must be allowed to deliver to this machine (WEBHOOK_ALLOW_PRIVATE_NETWORKS, on by default in development).')
    .action(
      clientAction(async (session, options: ListenOptions) => {
        const unknown = (options.events ?? []).filter((e) => !(JOB_EVENT_TYPES as readonly string[]).includes(e));
        if (unknown.length) throw new UsageError(`--events: unknown ${unknown.join(', ')}; expected ${JOB_EVENT_TYPES.join(', ')}`);
        let verifier: Webhook | undefined;
        const server = createServer(receiver(session, () => verifier));
        const port = await listen(server, options.port ?? 0);
        const url = `http://127.0.0.1:${port}/events`;
        try {
          const endpoint = await session.client.webhooks.create({
            url,
            events: (options.events as typeof JOB_EVENT_TYPES[number][] | undefined) ?? [...JOB_EVENT_TYPES],
            description: DESCRIPTION,
            enabled: true,
          });
          verifier = new Webhook(endpoint.secret);
          session.note(`Listening on ${url} (endpoint ${endpoint.id}); signatures are verified. Ctrl-C stops and removes the endpoint.`);
          try {
            await untilSignal();
          } finally {
            await session.client.webhooks.delete(endpoint.id);
            session.note(`Removed endpoint ${endpoint.id}`);
          }
        } finally {
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
        }
      }),
    );
}
