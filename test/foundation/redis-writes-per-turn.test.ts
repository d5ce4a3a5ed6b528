/**
 * A Redis connection under `writeCommandsPerTurn` (shared/redis.ts; the worker's BullMQ
 * connection) sends the commands of one event-loop turn in one socket write, answers each as
 * before, and loses none when its socket closes while they wait corked: the client sends them
 * again once it has reconnected.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRedis, type Redis, writeCommandsPerTurn } from '../../shared/redis.ts';
import { useTestEnvironment } from '../support/context.ts';

const env = useTestEnvironment();
const clients: Redis[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

async function corkedClient(): Promise<Redis> {
  const client = createRedis(env.env.REDIS_URL as string, { connectionName: 'writes-per-turn', purpose: 'blocking' });
  clients.push(client);
  await client.ping();
  writeCommandsPerTurn(client);
  return client;
}

/** The socket writes `client` makes from now on, each with its number of chunks. */
function countWrites(client: Redis): number[] {
  const writes: number[] = [];
  const socket = client.stream as unknown as { _write: (...args: unknown[]) => void; _writev: (chunks: unknown[], ...rest: unknown[]) => void };
  const write = socket._write.bind(socket);
  const writev = socket._writev.bind(socket);
  vi.spyOn(socket, '_write').mockImplementation((...args: unknown[]) => (writes.push(1), write(...args)));
  vi.spyOn(socket, '_writev').mockImplementation((chunks: unknown[], ...rest: unknown[]) => (writes.push(chunks.length), writev(chunks, ...rest)));
  return writes;
}

describe('a connection that writes once a turn', () => {
  it('sends the commands of one turn in one write and answers each', async () => {
    const client = await corkedClient();
    const key = (i: number) => `${env.redisPrefix}:per-turn:${i}`;
    const writes = countWrites(client);
    const set = await Promise.all(Array.from({ length: 10 }, (_, i) => client.set(key(i), String(i))));
    expect(set).toEqual(Array(10).fill('OK'));
    expect(writes).toEqual([10]);
    // The next turn's commands, scripts included, go out in a write of their own.
    const read = await Promise.all([client.mget(key(0), key(9)), client.eval('return redis.call("get", KEYS[1])', 1, key(5)), client.incr(key(1))]);
    expect(read).toEqual([['0', '9'], '5', 2]);
    expect(writes).toEqual([10, 3]);
  });

  it('sends the commands again after a reconnect when its socket closes while they wait', async () => {
    const client = await corkedClient();
    const key = `${env.redisPrefix}:per-turn:lost`;
    const reconnected = new Promise((resolve) => client.once('ready', resolve));
    const answers = Promise.all([client.set(key, 'a'), client.append(key, 'b')]);
    // In the same turn: the socket goes away with both commands still corked, unsent.
    client.stream.destroy();
    await reconnected;
    expect(await answers).toEqual(['OK', 2]);
    expect(await env.redis.get(key)).toBe('ab');
  });
});
