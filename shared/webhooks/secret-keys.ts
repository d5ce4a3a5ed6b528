/**
 * The keys webhook secrets are sealed with (see SecretBox). The current key comes from
 * `SECRETS_KEY` (base64 of 32 bytes), else `SECRETS_KEY_FILE` (a file holding that), else, outside
 * production, a key generated once into `JWT_KEYS_DIR` beside the development signing key.
 * `SECRETS_PREVIOUS_KEYS` (comma-separated, same form) open secrets sealed before a rotation until
 * the reseal has moved them to the current key.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Config, ConfigError } from '../config.ts';
import { writeOnce } from '../write-once.ts';
import { SECRET_KEY_BYTES, SecretBox } from './secret-box.ts';

/** File name of the generated development key in `JWT_KEYS_DIR`. */
export const LOCAL_SECRETS_KEY_FILE = 'secrets.key';

export type SecretKeysConfig = Pick<Config, 'SECRETS_KEY' | 'SECRETS_KEY_FILE' | 'SECRETS_PREVIOUS_KEYS' | 'JWT_KEYS_DIR'>;

/** Decodes a base64 key of 32 bytes, or throws a ConfigError naming `variable`. */
export function parseSecretKey(text: string, variable: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) || key.length !== SECRET_KEY_BYTES) {
    throw new ConfigError(variable, `must be ${SECRET_KEY_BYTES} bytes in base64 (openssl rand -base64 32)`);
  }
  return key;
}

/** Reads the development key, generating it first if absent; safe when several processes start at once. */
export function ensureLocalSecretsKey(dir: string): Buffer {
  const path = join(dir, LOCAL_SECRETS_KEY_FILE);
  try {
    return parseSecretKey(readFileSync(path, 'utf8'), 'JWT_KEYS_DIR');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw err instanceof ConfigError ? err : new ConfigError('JWT_KEYS_DIR', (err as Error).message);
    }
  }
  try {
    return parseSecretKey(writeOnce(path, () => `${randomBytes(SECRET_KEY_BYTES).toString('base64')}\n`), 'JWT_KEYS_DIR');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('JWT_KEYS_DIR', `cannot hold the generated secrets key: ${(err as Error).message}`);
  }
}

/** The configured keys as a SecretBox. */
export function loadSecretBox(config: SecretKeysConfig): SecretBox {
  let current: Buffer;
  if (config.SECRETS_KEY) {
    current = parseSecretKey(config.SECRETS_KEY, 'SECRETS_KEY');
  } else if (config.SECRETS_KEY_FILE) {
    let text: string;
    try {
      text = readFileSync(config.SECRETS_KEY_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError('SECRETS_KEY_FILE', `cannot be read: ${(err as Error).message}`);
    }
    current = parseSecretKey(text, 'SECRETS_KEY_FILE');
  } else {
    // parseConfig refuses production without a key, so this is development or a test.
    current = ensureLocalSecretsKey(config.JWT_KEYS_DIR);
  }
  return new SecretBox(current, previousSecretKeys(config.SECRETS_PREVIOUS_KEYS));
}

export function previousSecretKeys(list: string | undefined): Buffer[] {
  if (!list) return [];
  return list
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => parseSecretKey(part, 'SECRETS_PREVIOUS_KEYS'));
}
