/**
 * The server-sent events parser: fields, comments, line endings and chunk boundaries anywhere,
 * and an AbortSignal that ends a stream that would otherwise never end.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEventStream, type SseMessage } from '../../client/index.ts';

const encoder = new TextEncoder();

async function* chunksOf(text: string, cuts: number[] = []): AsyncGenerator<Uint8Array> {
  const bytes = encoder.encode(text);
  let start = 0;
  for (const cut of [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    yield bytes.slice(start, cut);
    start = cut;
  }
  yield bytes.slice(start);
}

async function collect(text: string, cuts?: number[]): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const message of parseEventStream(chunksOf(text, cuts))) out.push(message);
  return out;
}

const STREAM =
  ': keep-alive\n' +
  'retry: 3000\n' +
  'event: status\n' +
  'id: 1\n' +
  'data: {"status":"running"}\n\n' +
  'data: line one\r\n' +
  'data:line two\r\n\r\n' +
  'event: progress\rid: 2\rdata: {"progress":0.5}\r\r' +
  'event: ignored-without-data\n\n' +
  'data: ünïcødé ✓\n\n' +
  'data: unterminated at the end';

const EXPECTED: SseMessage[] = [
  { event: 'status', data: '{"status":"running"}', id: '1', retry: 3000 },
  { event: 'message', data: 'line one\nline two', id: '1', retry: undefined },
  { event: 'progress', data: '{"progress":0.5}', id: '2', retry: undefined },
  { event: 'message', data: 'ünïcødé ✓', id: '2', retry: undefined },
];

describe('parseEventStream', () => {
  it('reads events, data lines, ids, retry and comments in every line-ending style', async () => {
    expect(await collect(STREAM)).toEqual(EXPECTED);
  });

  it('gives the same events however the bytes are split into chunks', async () => {
    const length = encoder.encode(STREAM).length;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: length - 1 }), { maxLength: 30 }), async (cuts) => {
        expect(await collect(STREAM, cuts)).toEqual(EXPECTED);
      }),
      { numRuns: 300 },
    );
  });

  describe('over HTTP', () => {
    let server: Server | undefined;
    afterAll(async () => {
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    });

    it('stops an endless stream when the signal aborts', async () => {
      server = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let n = 0;
        const timer = setInterval(() => res.write(`event: tick\ndata: ${n++}\n\n`), 20);
        res.on('close', () => clearInterval(timer));
      });
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const controller = new AbortController();
      const response = await fetch(url, { signal: controller.signal });
      const seen: string[] = [];
      const reading = (async () => {
        for await (const message of parseEventStream(response.body!, controller.signal)) {
          seen.push(message.data);
          if (seen.length === 3) controller.abort(new Error('enough'));
        }
      })();
      await expect(reading).rejects.toThrow('enough');
      expect(seen).toEqual(['0', '1', '2']);
    });
  });
});
