/**
 * API keys look like `ck_<8-char prefix>_<secret>`. The prefix is stored in clear so a key can be
 * recognised in lists; the whole key is stored only as a SHA-256 hash (keys are long and random,
 * so a fast hash is enough, unlike passwords).
 */
import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_PATTERN = /^ck_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{32,64})$/;

export interface NewApiKey {
  key: string;
  prefix: string;
  hash: string;
}

function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateApiKey(): NewApiKey {
  const prefix = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 8);
  const key = `ck_${prefix}_${randomToken(32)}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export function looksLikeApiKey(value: string): boolean {
  return API_KEY_PATTERN.test(value);
}
