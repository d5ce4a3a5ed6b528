/**
 * Identical job list reads of one tenant that wait for a pooled connection together share one read.
 * See docs/performance.md › Mixed load: lists share a read while they wait for a connection.
 *
 * Under mixed load a list's query costs PostgreSQL about 0.06 ms, yet holds its connection for
 * one turn of the API's busy event loop (the answer waits there to be read), and lists queued for
 * the pool's ten connections behind one another. A list that asks for the same page of the same
 * tenant as a read not yet sent joins it. The read takes its snapshot after every joined request
 * arrived, so each sees every write committed before it came (read-your-writes holds); once the
 * read holds its connection it is closed to joiners. Row-level security still decides the read,
 * run as the tenant as before.
 */
import type { Db } from '../../shared/db.ts';
import { type ListedJob, listJobs, type ListJobsOptions } from '../../shared/jobs/repository.ts';
import type { ListCursor } from '../../shared/list-cursor.ts';

export type ListPage = { rows: ListedJob[]; next?: ListCursor };
type ListRead = (db: Db, tenantId: string, options: ListJobsOptions) => Promise<ListPage>;

/** What makes two list requests the same read: the tenant and every option, in a fixed order. */
function keyOf(tenantId: string, o: Omit<ListJobsOptions, 'onConnection'>): string {
  return JSON.stringify([tenantId, o.limit, o.status, o.type, o.batchId, o.createdAfter, o.after?.at, o.after?.id, o.labels]);
}

export class ListReadSharing {
  /** Reads not yet holding a connection, by key: at most one per distinct page in flight. */
  private readonly open = new Map<string, Promise<ListPage>>();
  /** Bodies rendered, by page: dropped with the page once its requests are answered. */
  private readonly bodies = new WeakMap<ListPage, string>();

  constructor(
    private readonly db: Db,
    private readonly read: ListRead = listJobs,
  ) {}

  /** The page `listJobs` would read; the same promise, shared and read-only, for requests that joined. */
  list(tenantId: string, options: Omit<ListJobsOptions, 'onConnection'>): Promise<ListPage> {
    const key = keyOf(tenantId, options);
    const joined = this.open.get(key);
    if (joined) return joined;
    const entry: { read?: Promise<ListPage>; closed: boolean } = { closed: false };
    const close = () => {
      if (entry.closed) return;
      entry.closed = true;
      if (entry.read && this.open.get(key) === entry.read) this.open.delete(key);
    };
    const read = this.read(this.db, tenantId, { ...options, onConnection: close });
    entry.read = read;
    // Closed already if the read got its connection at once (or failed before).
    if (!entry.closed) this.open.set(key, read);
    read.then(close, close);
    return read;
  }

  /**
   * The response body of `page`, rendered once per read: the requests that shared a read answer
   * the same bytes (the body depends on the page alone), so they share its serialisation too.
   */
  body(page: ListPage, render: (page: ListPage) => string): string {
    let text = this.bodies.get(page);
    if (text === undefined) {
      text = render(page);
      this.bodies.set(page, text);
    }
    return text;
  }

  /** Reads open to joiners (for tests). */
  get openReads(): number {
    return this.open.size;
  }
}
