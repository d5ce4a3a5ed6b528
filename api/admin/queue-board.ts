/**
 * bull-board over the queue catalog. The board's queue list is replaced from the catalog before
 * each request it serves (the catalog itself re-reads tenants at most every couple of seconds),
 * so a new tenant's queue shows up on the next page load or poll, without a restart.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Queue } from 'bullmq';
import type Koa from 'koa';
import type { CatalogQueue, QueueCatalog } from '../../shared/queue-catalog.ts';

/** Where the board is mounted. */
export const ADMIN_QUEUES_PATH = '/admin/queues';

export interface QueueBoardOptions {
  /** Without retry, remove, pause, add or clean actions. */
  readOnly: boolean;
  /** @defaultValue 'Catalytic queues' */
  title?: string;
}

const require = createRequire(import.meta.url);

export class QueueBoard {
  /** The board's Koa middleware, mounted at ADMIN_QUEUES_PATH. */
  readonly middleware: Koa.Middleware;
  private readonly replaceQueues: (adapters: BullMQAdapter[]) => void;
  private readonly adapters = new Map<string, { queue: Queue; adapter: BullMQAdapter }>();
  private lastList: CatalogQueue[] | undefined;

  constructor(
    private readonly catalog: QueueCatalog,
    private readonly options: QueueBoardOptions,
  ) {
    const serverAdapter = new KoaAdapter();
    serverAdapter.setBasePath(ADMIN_QUEUES_PATH);
    const board = createBullBoard({
      queues: [],
      serverAdapter,
      options: {
        // Resolved here: the package's own lookup relies on `require` from an eval.
        uiBasePath: dirname(require.resolve('@bull-board/ui/package.json')),
        uiConfig: { boardTitle: options.title ?? 'Catalytic queues' },
      },
    });
    this.replaceQueues = board.replaceQueues;
    this.middleware = serverAdapter.registerPlugin() as Koa.Middleware;
  }

  /** Brings the board's queue list in line with the catalog. */
  async refresh(): Promise<void> {
    const list = await this.catalog.list();
    if (list === this.lastList) return;
    this.lastList = list;
    const keep = new Set<string>();
    const adapters = list.map((entry) => {
      const name = entry.queue.name;
      keep.add(name);
      const known = this.adapters.get(name);
      if (known && known.queue === entry.queue && known.adapter.displayName === entry.displayName) return known.adapter;
      const adapter = new BullMQAdapter(entry.queue, {
        readOnlyMode: this.options.readOnly,
        allowRetries: !this.options.readOnly,
        displayName: entry.displayName,
        description: entry.description,
      });
      this.adapters.set(name, { queue: entry.queue, adapter });
      return adapter;
    });
    for (const name of this.adapters.keys()) if (!keep.has(name)) this.adapters.delete(name);
    this.replaceQueues(adapters);
  }
}
