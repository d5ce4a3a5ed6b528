/**
 * Webhook signing secrets at rest: AES-256-GCM, so a database dump, a backup or a read-only
 * database login does not yield them. A stored secret reads
 * `enc:v1:<key id>:<base64url of 12-byte IV, ciphertext, 16-byte tag>`; the key id (the first 16
 * hex digits of SHA-256 of the key) names the key that sealed it, so several keys can be in use
 * during a rotation. The endpoint's id is bound in as associated data: a sealed secret copied to
 * another endpoint does not open there.
 *
 * A value without the `enc:` prefix is a secret written before encryption existed; it opens as is
 * until the reseal (`resealWebhookSecrets`) encrypts it.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SECRET_KEY_BYTES = 32;

/** A sealed secret whose key is not configured, or that does not authenticate. */
export class SecretUnavailableError extends Error {
  override readonly name = 'SecretUnavailableError';
  readonly code = 'secret_unavailable';
}

/** The key id stored with each ciphertext. */
export function secretKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export class SecretBox {
  /** Id of the key new secrets are sealed with. */
  readonly currentKeyId: string;
  private readonly keys = new Map<string, Buffer>();

  /** `current` seals and opens; `previous` keys only open (secrets sealed before a rotation). */
  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    for (const key of [current, ...previous]) {
      if (key.length !== SECRET_KEY_BYTES) throw new RangeError(`A secrets key must be ${SECRET_KEY_BYTES} bytes, not ${key.length}`);
      if (!this.keys.has(secretKeyId(key))) this.keys.set(secretKeyId(key), key);
    }
    this.currentKeyId = secretKeyId(current);
  }

  seal(plaintext: string, context: string): string {
    const key = this.keys.get(this.currentKeyId) as Buffer;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${PREFIX}${this.currentKeyId}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  open(stored: string, context: string): string {
    if (!isSealed(stored)) return stored;
    const [keyId = '', data = ''] = stored.slice(PREFIX.length).split(':');
    const key = this.keys.get(keyId);
    if (!key) throw new SecretUnavailableError(`No configured secrets key has id ${keyId} (add it to SECRETS_PREVIOUS_KEYS)`);
    const bytes = Buffer.from(data, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretUnavailableError('A sealed secret is truncated');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new SecretUnavailableError('A sealed secret does not authenticate (wrong key or endpoint, or altered)', { cause: err });
    }
  }

  /** True when `stored` is sealed with the current key (nothing to reseal). */
  isCurrent(stored: string): boolean {
    return stored.startsWith(`${PREFIX}${this.currentKeyId}:`);
  }
}

export function isSealed(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

/** The associated data that binds a sealed secret to its endpoint. */
export function webhookSecretContext(webhookId: string): string {
  return `webhook:${webhookId}`;
}
