/** Rows the webhook and scheduler tests arrange directly: endpoints, finished jobs, events. */
import { randomUUID } from 'node:crypto';
import { parseConfig } from '../../shared/config.ts';
import type { Db } from '../../shared/db.ts';
import { type SecretBox, webhookSecretContext } from '../../shared/webhooks/secret-box.ts';
import { loadSecretBox } from '../../shared/webhooks/secret-keys.ts';
import { type JobEventType, recordJobEvent } from '../../shared/webhooks/job-events.ts';
import { generateWebhookSecret } from '../../shared/webhooks/secrets.ts';

/** The development secrets key every test process uses (generated once into JWT_KEYS_DIR). */
export function testSecretBox(): SecretBox {
  return loadSecretBox(parseConfig({}));
}

export interface TestEndpoint {
  id: string;
  secret: string;
}

export async function insertEndpoint(
  db: Db,
  tenantId: string,
  url: string,
  events: readonly string[] = ['job.completed', 'job.failed', 'job.cancelled'],
): Promise<TestEndpoint> {
  const secret = generateWebhookSecret();
  const id = randomUUID();
  await db('webhooks').insert({ id, tenant_id: tenantId, url, events: [...events], secret: testSecretBox().seal(secret, webhookSecretContext(id)) });
  return { id, secret };
}

const LATTICE = { shape: [4, 4], boundary: 'open', obstacles: { density: 0, seed: 1 } };

/** A job row in `status` (finished ones get `finished_at`, which may be backdated). */
export async function insertJob(
  db: Db,
  tenantId: string,
  options: { status?: string; finishedAt?: Date | null; createdAt?: Date } = {},
): Promise<string> {
  const status = options.status ?? 'queued';
  const finished = ['completed', 'failed', 'cancelled'].includes(status);
  const [row] = await db('jobs')
    .insert({
      tenant_id: tenantId,
      type: 'components',
      status,
      lattice: LATTICE,
      params: {},
      cells: 16,
      finished_at: options.finishedAt === undefined ? (finished ? db.fn.now() : null) : options.finishedAt,
      ...(options.createdAt ? { created_at: options.createdAt, updated_at: options.createdAt } : {}),
    })
    .returning<Array<{ id: string }>>('id');
  return (row as { id: string }).id;
}

/**
 * Finishes a queued job and records its event in one transaction, as the job pipeline does;
 * returns the new delivery ids.
 */
export async function finishJobWithEvent(
  db: Db,
  tenantId: string,
  jobId: string,
  status: 'completed' | 'failed' | 'cancelled' = 'completed',
): Promise<string[]> {
  return db.transaction(async (trx) => {
    await trx('jobs').where({ id: jobId, tenant_id: tenantId }).update({ status, finished_at: trx.fn.now(), progress: 1 });
    const type: JobEventType = `job.${status}`;
    return recordJobEvent(trx, tenantId, type, { id: jobId, type: 'components', status, result: status === 'completed' ? { clusters: 1 } : null });
  });
}
