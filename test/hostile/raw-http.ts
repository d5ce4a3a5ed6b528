/**
 * HTTP for hostile tests, below fetch: node:http sends paths exactly as given (no `..`
 * normalisation), any header and Buffer bodies; raw sockets send what no HTTP client would
 * (invalid header bytes, lying lengths, bytes dribbled out slowly).
 */
import { Agent, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface HostileRequest {
  method: string;
  /** Sent verbatim as the request target. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Send the body chunked (no Content-Length). */
  chunked?: boolean;
}

export type Outcome =
  | { kind: 'response'; status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; ms: number; streamed: boolean }
  | { kind: 'timeout'; ms: number }
  /** The connection failed before any response arrived. */
  | { kind: 'error'; code: string; ms: number };

/** Stream responses (server-sent events) are read only this far, then closed. */
const STREAM_PEEK_BYTES = 256;

export function createAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

/** Sends one request; resolves with the response, a timeout or a connection error. Never rejects. */
export function send(base: URL, req: HostileRequest, options: { agent: Agent; timeoutMs: number }): Promise<Outcome> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const headers: Record<string, string> = { ...req.headers };
    if (req.body && !req.chunked) headers['content-length'] = String(req.body.length);
    let client: ReturnType<typeof httpRequest>;
    try {
      client = httpRequest({
        host: base.hostname,
        port: base.port,
        method: req.method,
        path: req.path,
        headers,
        agent: options.agent,
      });
    } catch (err) {
      finish({ kind: 'error', code: `client:${(err as NodeJS.ErrnoException).code ?? 'refused'}`, ms: ms() });
      return;
    }
    const timer = setTimeout(() => {
      client.destroy();
      finish({ kind: 'timeout', ms: ms() });
    }, options.timeoutMs);
    client.on('error', (err: NodeJS.ErrnoException) => finish({ kind: 'error', code: err.code ?? err.message, ms: ms() }));
    client.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const streamed = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (streamed && size >= 1) {
          // A stream of a job that never finishes (no worker here): its start is what counts.
          finish({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).subarray(0, STREAM_PEEK_BYTES), ms: ms(), streamed });
          res.destroy();
        }
      });
      res.on('end', () => finish({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: ms(), streamed }));
      res.on('error', (err: NodeJS.ErrnoException) => finish({ kind: 'error', code: `response:${err.code ?? err.message}`, ms: ms() }));
    });
    if (req.body) {
      if (req.chunked) {
        // Several writes, so the body really is sent in chunks.
        const step = Math.max(1, Math.ceil(req.body.length / 8));
        for (let i = 0; i < req.body.length; i += step) client.write(req.body.subarray(i, i + step));
      } else {
        client.write(req.body);
      }
    }
    client.end();
  });
}

/** What came back on a raw socket, and when the server closed it. */
export interface RawExchange {
  /** Everything the server wrote. */
  response: string;
  status: number | undefined;
  /** Milliseconds from connect until the server closed (or the wait ended). */
  closedAfterMs: number;
  /** False when the wait ended with the socket still open. */
  closedByServer: boolean;
}

export function statusOf(raw: string): number | undefined {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return match ? Number(match[1]) : undefined;
}

/**
 * Opens a socket, writes `parts` one after another with `gapMs` between them (a slow client, or
 * one write when gapMs is 0), and collects what the server answers until it closes the socket
 * or `waitMs` passes.
 */
export function rawExchange(base: URL, parts: Array<string | Buffer>, options: { gapMs?: number; waitMs: number }): Promise<RawExchange> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(base.port), base.hostname);
    const chunks: Buffer[] = [];
    let done = false;
    let writer: NodeJS.Timeout | undefined;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearTimeout(writer);
      socket.destroy();
      const response = Buffer.concat(chunks).toString('latin1');
      resolve({ response, status: statusOf(response), closedAfterMs: Math.round(performance.now() - started), closedByServer });
    };
    const deadline = setTimeout(() => finish(false), options.waitMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => finish(true));
    // The server cutting a slow client off can reset the socket mid-write.
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      let next = 0;
      const writeNext = () => {
        if (done || socket.destroyed) return;
        const part = parts[next++];
        if (part === undefined) return;
        socket.write(part);
        writer = setTimeout(writeNext, options.gapMs ?? 0);
      };
      writeNext();
    });
  });
}
