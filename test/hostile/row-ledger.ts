/**
 * What the database may change: every row created or deleted must be explained by a successful
 * (2xx) request. Ids are compared, not just counts: the set of new ids in each table must be
 * exactly the ids the 2xx answers named, and the rows gone exactly those 2xx deletes named.
 */
import type { Db } from '../../shared/db.ts';

/** Tables whose rows requests create or delete, each keyed by `id`. */
export const LEDGER_TABLES = ['tenants', 'users', 'api_keys', 'lattices', 'jobs', 'webhooks', 'webhook_deliveries'] as const;
export type LedgerTable = (typeof LEDGER_TABLES)[number];

type Body = Record<string, unknown> & { id?: string; tenant?: { id?: string }; user?: { id?: string } };

/** Rows a 2xx answer of each route created, read from its body. */
const CREATES: Record<string, Array<{ table: LedgerTable; id: (body: Body) => string | undefined }>> = {
  'POST /api/tenants/register': [
    { table: 'tenants', id: (b) => b.tenant?.id },
    { table: 'users', id: (b) => b.user?.id },
  ],
  'POST /api/api-keys': [{ table: 'api_keys', id: (b) => b.id }],
  'POST /api/lattices': [{ table: 'lattices', id: (b) => b.id }],
  'POST /api/jobs': [{ table: 'jobs', id: (b) => b.id }],
  'POST /api/lattices/path': [{ table: 'jobs', id: (b) => b.id }],
  'POST /api/webhooks': [{ table: 'webhooks', id: (b) => b.id }],
  'POST /api/webhooks/:id/test': [{ table: 'webhook_deliveries', id: (b) => b.id }],
  'POST /api/webhooks/:id/deliveries/:did/redeliver': [{ table: 'webhook_deliveries', id: (b) => b.id }],
};

/** Routes whose 2xx deletes the row named by the path's `:id`. */
const DELETES: Record<string, LedgerTable> = {
  'DELETE /api/lattices/:id': 'lattices',
  'DELETE /api/webhooks/:id': 'webhooks',
};

/** Refresh tokens: one per sign-up, sign-in or refresh. */
const ISSUES_REFRESH_TOKEN = new Set(['POST /api/tenants/register', 'POST /auth/login', 'POST /auth/refresh']);

export interface LedgerSnapshot {
  ids: Record<LedgerTable, Set<string>>;
  refreshTokens: number;
  /** Deliveries by webhook, to allow those removed with their webhook. */
  deliveryWebhook: Map<string, string>;
}

export async function snapshot(db: Db): Promise<LedgerSnapshot> {
  const ids = {} as Record<LedgerTable, Set<string>>;
  for (const table of LEDGER_TABLES) {
    ids[table] = new Set((await db(table).select('id')).map((r: { id: string }) => r.id));
  }
  const deliveries = await db('webhook_deliveries').select('id', 'webhook_id');
  const [{ n }] = (await db('refresh_tokens').count('* as n')) as [{ n: string | number }];
  return {
    ids,
    refreshTokens: Number(n),
    deliveryWebhook: new Map(deliveries.map((d: { id: string; webhook_id: string }) => [d.id, d.webhook_id])),
  };
}

/** What the 2xx answers say happened. */
export class Ledger {
  private readonly created = new Map<LedgerTable, Set<string>>();
  private readonly deleted = new Map<LedgerTable, Set<string>>();
  private refreshTokens = 0;

  /** Records a 2xx answer to `route` (a route key) for the concrete `path`. */
  record(route: string, path: string, body: Buffer): void {
    if (ISSUES_REFRESH_TOKEN.has(route)) this.refreshTokens++;
    const creates = CREATES[route];
    if (creates) {
      const parsed = JSON.parse(body.toString('utf8')) as Body;
      for (const { table, id } of creates) {
        const value = id(parsed);
        if (value) this.add(this.created, table, value);
      }
    }
    const deletes = DELETES[route];
    if (deletes) {
      const segment = path.split('?')[0]?.split('/')[3] ?? '';
      this.add(this.deleted, deletes, decodeURIComponent(segment));
    }
  }

  private add(map: Map<LedgerTable, Set<string>>, table: LedgerTable, id: string): void {
    let set = map.get(table);
    if (!set) map.set(table, (set = new Set()));
    set.add(id);
  }

  /** Differences between what changed and what the answers explain (empty when they agree). */
  discrepancies(before: LedgerSnapshot, after: LedgerSnapshot): string[] {
    const problems: string[] = [];
    const deletedWebhooks = this.deleted.get('webhooks') ?? new Set<string>();
    for (const table of LEDGER_TABLES) {
      const appeared = [...after.ids[table]].filter((id) => !before.ids[table].has(id));
      const vanished = [...before.ids[table]].filter((id) => !after.ids[table].has(id));
      const expectedNew = new Set([...(this.created.get(table) ?? [])].filter((id) => !before.ids[table].has(id)));
      const expectedGone = this.deleted.get(table) ?? new Set<string>();
      const unexplainedNew = appeared.filter((id) => !expectedNew.has(id));
      const missingNew = [...expectedNew].filter((id) => !after.ids[table].has(id) && !expectedGone.has(id));
      const unexplainedGone = vanished.filter((id) => {
        if (expectedGone.has(id) || expectedNew.has(id)) return false;
        // Deliveries go with their webhook.
        return !(table === 'webhook_deliveries' && deletedWebhooks.has(before.deliveryWebhook.get(id) ?? ''));
      });
      if (unexplainedNew.length) problems.push(`${table}: ${unexplainedNew.length} row(s) created by no 2xx answer`);
      if (missingNew.length) problems.push(`${table}: ${missingNew.length} row(s) a 2xx answer reported are missing`);
      if (unexplainedGone.length) problems.push(`${table}: ${unexplainedGone.length} row(s) gone without a 2xx delete`);
    }
    const newTokens = after.refreshTokens - before.refreshTokens;
    if (newTokens !== this.refreshTokens) problems.push(`refresh_tokens: ${newTokens} new, ${this.refreshTokens} issued by 2xx answers`);
    return problems;
  }

  /** Rows the answers created and deleted, per table (for the summary). */
  totals(): Record<string, { created: number; deleted: number }> {
    const totals: Record<string, { created: number; deleted: number }> = {};
    for (const table of LEDGER_TABLES) {
      totals[table] = { created: this.created.get(table)?.size ?? 0, deleted: this.deleted.get(table)?.size ?? 0 };
    }
    totals.refresh_tokens = { created: this.refreshTokens, deleted: 0 };
    return totals;
  }
}
