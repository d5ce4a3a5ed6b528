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
import { TenantQueueAdapter } from './tenant-queue-adapter.ts';

/** Where the board is mounted. */
export const ADMIN_QUEUES_PATH = '/admin/queues';

export interface QueueBoardOptions {
  /** Without retry, remove, pause, add or clean actions. */
  readOnly: boolean;
  /** @defaultValue 'Catalytic queues' */
  title?: string;
}

const require = createRequire(import.meta.url);

/**
 * Opened as `http://user:pass@host/admin/queues`, the page's relative URLs resolve with the
 * credentials in them, and fetch() refuses such URLs: the board's locale file never loads and
 * its labels show as keys (MENU.QUEUES). Put in the page ahead of the board's scripts, this drops
 * the credentials from a fetch's URL; the browser still sends the ones it signed in with.
 */
const FETCH_WITHOUT_URL_CREDENTIALS = `<script>(() => {
  const fetchWithCredentialsInUrl = window.fetch;
  window.fetch = function (input, init) {
    if (typeof input === 'string' || input instanceof URL) {
      const url = new URL(input, document.baseURI);
      if (url.username || url.password) {
        url.username = '';
        url.password = '';
        input = url.href;
      }
    }
    return fetchWithCredentialsInUrl.call(this, input, init);
  };
})();</script>`;

export class QueueBoard {
  /** The board's Koa middleware, mounted at ADMIN_QUEUES_PATH. */
  readonly middleware: Koa.Middleware;
  private readonly replaceQueues: (adapters: BullMQAdapter[]) => void;
  private readonly adapters = new Map<string, { queue: Queue; boardName: string; adapter: BullMQAdapter }>();
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
    const plugin = serverAdapter.registerPlugin() as Koa.Middleware;
    this.middleware = async (ctx, next) => {
      await plugin(ctx, next);
      if (ctx.response.is('html') && typeof ctx.body === 'string') ctx.body = ctx.body.replace('<head>', `<head>${FETCH_WITHOUT_URL_CREDENTIALS}`);
    };
  }

  /** Brings the board's queue list in line with the catalog. */
  async refresh(): Promise<void> {
    const list = await this.catalog.list();
    if (list === this.lastList) return;
    this.lastList = list;
    const keep = new Set<string>();
    const nameCount = new Map<string, number>();
    for (const entry of list) nameCount.set(entry.displayName, (nameCount.get(entry.displayName) ?? 0) + 1);
    const adapters = list.map((entry) => {
      const name = entry.queue.name;
      keep.add(name);
      // Tenant names need not be unique; the board's names must be.
      const boardName = nameCount.get(entry.displayName) === 1 ? entry.displayName : `${entry.displayName} ${name}`;
      const known = this.adapters.get(name);
      if (known && known.queue === entry.queue && known.boardName === boardName && known.adapter.displayName === entry.displayName) return known.adapter;
      const options = {
        readOnlyMode: this.options.readOnly,
        allowRetries: !this.options.readOnly,
        displayName: entry.displayName,
        description: entry.description,
      };
      const adapter = entry.kind === 'tenant' ? new TenantQueueAdapter(entry.queue, boardName, options) : new BullMQAdapter(entry.queue, options);
      this.adapters.set(name, { queue: entry.queue, boardName, adapter });
      return adapter;
    });
    for (const name of this.adapters.keys()) if (!keep.has(name)) this.adapters.delete(name);
    this.replaceQueues(adapters);
  }
}
