/**
 * The benchmark's HTTP client: node:http over a keep-alive agent. The global fetch (undici)
 * spent over a millisecond of CPU per request here, on the same two cores as the stack it
 * measures; a plain keep-alive request costs a fraction of that.
 */
import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

export interface Answer {
  status: number;
  body: string;
  /** Seconds, from a 429's or 503's `Retry-After`. */
  retryAfterS?: number;
}

/** POSTs a JSON body; resolves with the status and body text. */
export function postJson(url: URL, headers: Record<string, string>, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        const retryAfter = res.headers['retry-after'];
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ...(retryAfter ? { retryAfterS: Number(retryAfter) } : {}) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Closes the idle keep-alive sockets so the process can exit. */
export function closeClients(): void {
  agent.destroy();
}
