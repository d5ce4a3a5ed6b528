/**
 * Webhook signing secrets at rest: sealed with AES-256-GCM under SECRETS_KEY, so the database and
 * its dumps hold no `whsec_` text; signatures still verify; a key rotation (new SECRETS_KEY, the
 * old one in SECRETS_PREVIOUS_KEYS, then `catalytic rotate-secrets`) moves every secret to the new
 * key; secrets stored in plain text by earlier versions are sealed by the same reseal.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeBackup } from '../../shared/backup.ts';
import { ConfigError, parseConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/logger.ts';
import { DeliverySender } from '../../shared/webhooks/delivery-sender.ts';
import { resealWebhookSecrets } from '../../shared/webhooks/reseal-secrets.ts';
import { SecretBox, SecretUnavailableError, webhookSecretContext } from '../../shared/webhooks/secret-box.ts';
import { generateWebhookSecret } from '../../shared/webhooks/secrets.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { spawnCatalytic } from '../support/processes.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { finishJobWithEvent, insertJob } from './fixtures.ts';
import { TestReceiver } from './receiver.ts';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const env = useTestEnvironment({ SECRETS_KEY: keyA.toString('base64') });
const api = useTestApi(env);

let tenant: TestTenant;
let secrets: string[] = [];
let receiver: TestReceiver;
let dir: string;

beforeAll(async () => {
  tenant = await createTestTenant(env.db);
  receiver = await new TestReceiver({ secrets: () => secrets }).start();
  dir = await mkdtemp(join(tmpdir(), 'catalytic-secrets-'));
});
afterAll(async () => {
  await receiver?.close();
  await rm(dir, { recursive: true, force: true });
});

async function createEndpoint(): Promise<{ id: string; secret: string }> {
  const res = await api.request('/api/webhooks', { body: { url: receiver.url, events: ['job.completed'] }, headers: tenant.headers });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; secret: string };
}

function sender(box: SecretBox): DeliverySender {
  return new DeliverySender({ db: env.db, logger: createLogger(env.config, 'test'), config: env.config, secretBox: box });
}

/**
 * Sends one job event to every endpoint of the tenant with `box`; returns how each attempt ended
 * and which secrets verified each request the receiver got (sorted).
 */
async function deliverWith(box: SecretBox): Promise<{ outcomes: string[]; verified: number[][] }> {
  const ids = await finishJobWithEvent(env.db, tenant.tenantId, await insertJob(env.db, tenant.tenantId, { status: 'running' }));
  const outcomes: string[] = [];
  for (const id of ids) outcomes.push((await sender(box).attemptIfDue(id))?.outcome ?? 'none');
  const { event_id: eventId } = await env.db('webhook_deliveries').where({ id: ids[0] }).first('event_id');
  return { outcomes, verified: receiver.forEvent(eventId).map((r) => r.verifiedWith).sort() };
}

async function storedSecrets(): Promise<string[]> {
  const rows = await env.db('webhooks').select('secret', 'previous_secret');
  return rows.flatMap((r: { secret: string; previous_secret: string | null }) => [r.secret, r.previous_secret].filter((s): s is string => s !== null));
}

describe('webhook secrets at rest', () => {
  it('are sealed in the database and in a dump, and signatures still verify', async () => {
    const endpoint = await createEndpoint();
    const rotated = (await (await api.request(`/api/webhooks/${endpoint.id}/rotate-secret`, { method: 'POST', headers: tenant.headers })).json()) as { secret: string };
    const stored = await storedSecrets();
    expect(stored).toHaveLength(2);
    for (const value of stored) {
      expect(value).toMatch(/^enc:v1:[0-9a-f]{16}:/);
      expect(value).not.toContain('whsec_');
      expect(value).not.toContain(rotated.secret.slice(6, 30));
    }

    // Both secrets sign during the rotation window, and the receiver verifies with either.
    secrets = [endpoint.secret, rotated.secret];
    const test = (await (await api.request(`/api/webhooks/${endpoint.id}/test`, { method: 'POST', headers: tenant.headers })).json()) as { event_id: string; status: string };
    expect(test.status).toBe('succeeded');
    expect(receiver.forEvent(test.event_id)[0]?.verifiedWith).toEqual([0, 1]);

    // The dump, read back as SQL, holds no secret.
    const { file } = await takeBackup({ DATABASE_URL: env.env.DATABASE_URL as string, BACKUP_DIR: dir, BACKUP_KEEP: 1 });
    const { stdout } = await promisify(execFile)('pg_restore', ['--file=-', file], { maxBuffer: 64 * 1024 * 1024 });
    expect(stdout).toContain('enc:v1:');
    expect(stdout).not.toContain('whsec_');
    expect(stdout).not.toContain(endpoint.secret.slice(6));
  });

  it('does not open a secret with the wrong key or for another endpoint', () => {
    const box = new SecretBox(keyA);
    const sealed = box.seal('whsec_abc', webhookSecretContext('a'));
    expect(box.open(sealed, webhookSecretContext('a'))).toBe('whsec_abc');
    expect(() => box.open(sealed, webhookSecretContext('b'))).toThrow(SecretUnavailableError);
    expect(() => new SecretBox(keyB).open(sealed, webhookSecretContext('a'))).toThrow(/SECRETS_PREVIOUS_KEYS/);
    const tampered = `${sealed.slice(0, -4)}${sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect(() => box.open(tampered, webhookSecretContext('a'))).toThrow(SecretUnavailableError);
  });

  it('seals plain-text secrets of earlier versions, and rotates every secret to a new key', async () => {
    await env.db('webhooks').delete();
    const sealedWithA = await createEndpoint();
    // An endpoint written by a version that stored secrets in plain text.
    const legacy = { id: randomUUID(), secret: generateWebhookSecret() };
    await env.db('webhooks').insert({ id: legacy.id, tenant_id: tenant.tenantId, url: receiver.url, events: ['job.completed'], secret: legacy.secret });
    secrets = [sealedWithA.secret, legacy.secret];
    const boxA = new SecretBox(keyA);
    // Both deliver before any reseal: the plain text one opens as it is.
    expect(await deliverWith(boxA)).toEqual({ outcomes: ['succeeded', 'succeeded'], verified: [[0], [1]] });

    // Rotation: B is the key now, A is kept to open what it sealed until the reseal.
    const boxBA = new SecretBox(keyB, [keyA]);
    expect(await deliverWith(boxBA)).toEqual({ outcomes: ['succeeded', 'succeeded'], verified: [[0], [1]] });
    const rotate = spawnCatalytic(['rotate-secrets'], { ...env.env, LOG_LEVEL: 'info', SECRETS_KEY: keyB.toString('base64'), SECRETS_PREVIOUS_KEYS: keyA.toString('base64') });
    expect(await rotate.exited, rotate.output()).toBe(0);
    expect(rotate.output()).toMatch(/2 webhook secret\(s\) resealed/);

    const boxB = new SecretBox(keyB);
    for (const value of await storedSecrets()) expect(boxB.isCurrent(value), value).toBe(true);
    // A is no longer needed; it no longer opens anything.
    expect(await deliverWith(boxB)).toEqual({ outcomes: ['succeeded', 'succeeded'], verified: [[0], [1]] });
    expect(await deliverWith(boxA)).toEqual({ outcomes: ['retrying', 'retrying'], verified: [] });
    expect(await resealWebhookSecrets(env.db, boxB)).toEqual({ resealed: 0, unreadable: 0 });
  });

  it('refuses to start in production without a key, and refuses a key of the wrong size', () => {
    const production = { NODE_ENV: 'production', JWT_PRIVATE_KEY: 'x' };
    expect(() => parseConfig(production)).toThrow('Invalid setting SECRETS_KEY_FILE: is required in production');
    expect(parseConfig({ ...production, SECRETS_KEY_FILE: '/run/secrets/secrets_key' }).SECRETS_KEY_FILE).toBe('/run/secrets/secrets_key');
    expect(() => parseConfig({ SECRETS_KEY: randomBytes(16).toString('base64') })).toThrow(ConfigError);
    expect(() => parseConfig({ SECRETS_PREVIOUS_KEYS: `${keyA.toString('base64')},nonsense` })).toThrow('Invalid setting SECRETS_PREVIOUS_KEYS');
  });
});
