/**
 * Password hashing with scrypt (memory-hard, in node:crypto) and a strength check with zxcvbn.
 * A hash records its own parameters (`scrypt$N$r$p$salt$hash`), so the cost can be raised later
 * and old hashes still verify; `needsRehash` tells the sign-in path to upgrade them.
 */
import { randomBytes, scrypt, type ScryptOptions, timingSafeEqual } from 'node:crypto';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';

/** scrypt cost: N = 2^15, r = 8 needs 32 MiB and ~50-100 ms per hash, as OWASP suggests. */
export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_BYTES = 16;

/** Shortest password accepted. */
export const PASSWORD_MIN_LENGTH = 10;
/** Longest password accepted (more is no safer and costs hashing time). */
export const PASSWORD_MAX_LENGTH = 256;
/** Lowest zxcvbn score accepted (0-4): 3 means "safely unguessable" against online and slow offline attacks. */
export const PASSWORD_MIN_SCORE = 3;

function scryptAsync(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function maxmem(N: number, r: number): number {
  // scrypt needs 128·N·r bytes; leave headroom above Node's 32 MiB default.
  return 256 * N * r;
}

/** Hashes a password on the libuv thread pool (the event loop stays free). */
export async function hashPassword(password: string): Promise<string> {
  const { N, r, p } = SCRYPT_PARAMS;
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(password, salt, KEY_LENGTH, { N, r, p, maxmem: maxmem(N, r) });
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): ParsedHash | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 2 ** 20 || r > 32 || p > 16) return undefined;
  return { N, r, p, salt: Buffer.from(parts[4] ?? '', 'base64url'), key: Buffer.from(parts[5] ?? '', 'base64url') };
}

/**
 * True when `password` matches `stored`. A stored value that is not a scrypt hash (such as the
 * `!` of an account that cannot sign in) never matches.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed || parsed.key.length === 0) return false;
  const { N, r, p, salt, key } = parsed;
  const candidate = await scryptAsync(password, salt, key.length, { N, r, p, maxmem: maxmem(N, r) });
  return timingSafeEqual(candidate, key);
}

/** True when a hash was made with other parameters than today's. */
export function needsRehash(stored: string): boolean {
  const parsed = parseHash(stored);
  return !parsed || parsed.N !== SCRYPT_PARAMS.N || parsed.r !== SCRYPT_PARAMS.r || parsed.p !== SCRYPT_PARAMS.p;
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the time of one verification when there is no account to check, so response time does
 * not tell whether an email is registered.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await dummyHash);
  return false;
}

let estimator: ZxcvbnFactory | undefined;

function strengthEstimator(): ZxcvbnFactory {
  // Built on first use: loading the dictionaries takes ~100 ms.
  estimator ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary },
    graphs: common.adjacencyGraphs,
    // Guessing patterns is superlinear in length; a longer password is judged by its start.
    maxLength: 64,
  });
  return estimator;
}

/**
 * Why a password is too weak, or undefined when it is acceptable. `userInputs` (email, names,
 * company) count as known words: a password built from them is weak.
 */
export function passwordWeakness(password: string, userInputs: readonly string[] = []): string | undefined {
  if (password.length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (password.length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  const inputs = userInputs.flatMap((input) => input.toLowerCase().split(/[^\p{L}\p{N}]+/u)).filter((w) => w.length >= 3);
  const result = strengthEstimator().check(password, inputs);
  if (result.score >= PASSWORD_MIN_SCORE) return undefined;
  return 'is too easy to guess: use a longer mix of uncommon words, digits or symbols';
}

/** Operator passwords (ADMIN_PASSWORD) open the queue board: longer than a user's at least. */
export const OPERATOR_PASSWORD_MIN_LENGTH = 16;
// Placeholders shipped in examples, which a deployment may forget to replace.
export const PLACEHOLDER_SECRET = /change[\W_]*me|replace[\W_]*me|password|example/i;

/** Why an operator password is too weak, or undefined when it is acceptable. */
export function operatorPasswordWeakness(password: string, userInputs: readonly string[] = []): string | undefined {
  if (password.length < OPERATOR_PASSWORD_MIN_LENGTH) return `must be at least ${OPERATOR_PASSWORD_MIN_LENGTH} characters`;
  if (PLACEHOLDER_SECRET.test(password)) return 'looks like a placeholder (change-me, password, example): set a real secret';
  return passwordWeakness(password, userInputs);
}
