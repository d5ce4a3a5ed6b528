/**
 * Reseals webhook secrets with the current key: secrets stored in plain text (written before
 * encryption existed) and secrets sealed with an earlier key (after a rotation). The scheduler
 * runs it at start, and `catalytic rotate-secrets` on demand; several at once are harmless (rows
 * are taken with `skip locked`). Once it reports nothing left, earlier keys can be dropped from
 * SECRETS_PREVIOUS_KEYS.
 */
import type { Db } from '../db.ts';
import type { Logger } from '../logger.ts';
import { type SecretBox, webhookSecretContext } from './secret-box.ts';

export interface ResealReport {
  /** Endpoints whose secrets were resealed. */
  resealed: number;
  /** Endpoints whose secret no configured key opens (left as they are). */
  unreadable: number;
}

interface SecretRow {
  id: string;
  secret: string;
  previous_secret: string | null;
}

export async function resealWebhookSecrets(db: Db, box: SecretBox, options: { batchSize?: number; logger?: Logger } = {}): Promise<ResealReport> {
  const batchSize = options.batchSize ?? 500;
  const current = `enc:v1:${box.currentKeyId}:%`;
  const unreadable = new Set<string>();
  let resealed = 0;
  for (;;) {
    const done = await db.transaction(async (trx) => {
      const rows = await trx('webhooks')
        .where((q) => q.whereNot('secret', 'like', current).orWhere((p) => p.whereNotNull('previous_secret').whereNot('previous_secret', 'like', current)))
        .whereNotIn('id', [...unreadable])
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .select<SecretRow[]>('id', 'secret', 'previous_secret');
      for (const row of rows) {
        const context = webhookSecretContext(row.id);
        try {
          await trx('webhooks')
            .where({ id: row.id })
            .update({
              secret: box.isCurrent(row.secret) ? row.secret : box.seal(box.open(row.secret, context), context),
              previous_secret:
                row.previous_secret === null || box.isCurrent(row.previous_secret)
                  ? row.previous_secret
                  : box.seal(box.open(row.previous_secret, context), context),
            });
          resealed++;
        } catch (err) {
          unreadable.add(row.id);
          options.logger?.error({ err, webhookId: row.id }, 'a webhook secret opens with no configured key; left as it is');
        }
      }
      return rows.length < batchSize;
    });
    if (done) break;
  }
  return { resealed, unreadable: unreadable.size };
}
