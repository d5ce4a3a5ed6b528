/**
 * bull-board's BullMQ adapter for a tenant queue, with two differences the board needs:
 *
 * - Its workers are the worker processes' fetch connections. The fair fetcher takes jobs from
 *   every tenant queue through one connection, which cannot carry BullMQ's per-queue worker name,
 *   so `Queue.getWorkers()` finds nobody; the connections named by fetcherConnectionName() are
 *   counted instead.
 * - Its name on the board (menu, search, URLs) is the tenant's name and plan: bull-board 9 builds
 *   the sidebar from queue names only, never from `displayName`.
 */
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { Queue } from 'bullmq';
import { isFetcherConnectionName } from '../../shared/queues/fetcher-connection-name.ts';
import { isCluster, type RedisClient } from '../../shared/redis.ts';

type AdapterOptions = ConstructorParameters<typeof BullMQAdapter>[1] & { displayName: string };
type RawClient = Record<string, string>;

/** `CLIENT LIST` output: one client a line, `key=value` fields separated by spaces. */
function parseClientList(list: string): RawClient[] {
  return list
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => Object.fromEntries(line.trim().split(' ').map((field) => {
      const at = field.indexOf('=');
      return [field.slice(0, at), field.slice(at + 1)];
    })));
}

export class TenantQueueAdapter extends BullMQAdapter {
  constructor(
    private readonly tenantQueue: Queue,
    private readonly boardName: string,
    options: AdapterOptions,
  ) {
    super(tenantQueue, options);
  }

  override getName(): string {
    return this.boardName;
  }

  override async getWorkers() {
    const client = (await this.tenantQueue.getBackend().client) as unknown as RedisClient;
    const prefix = this.tenantQueue.opts.prefix ?? 'bull';
    // On a cluster each node lists its own clients; a fetch connection reaches every node.
    const lists = isCluster(client)
      ? await Promise.all(client.nodes('master').map((node) => node.client('LIST') as Promise<string>))
      : [(await client.client('LIST')) as string];
    const fetchers = lists
      .map((list) => parseClientList(list).filter((c) => isFetcherConnectionName(prefix, c.name ?? '')))
      .reduce((most, next) => (next.length > most.length ? next : most), []);
    return this.normalizeWorkers(fetchers, ':w:');
  }
}
