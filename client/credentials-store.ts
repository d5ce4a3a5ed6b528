/**
 * Where a client finds its API URL and credentials: explicit options first, then the environment
 * (`CATALYTIC_URL`, `CATALYTIC_API_KEY`), then the credentials file that `catalytic login` writes
 * (`$CATALYTIC_CONFIG`, else `$XDG_CONFIG_HOME/catalytic/credentials.json`, else
 * `~/.config/catalytic/credentials.json`). The file holds secrets, so it is written with mode
 * 0600 in a 0700 directory, atomically (a crash never leaves half a file).
 */
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SessionTokens } from './http.ts';

/** The API a client talks to when nothing else says. */
export const DEFAULT_API_URL = 'http://localhost:8000';

/** What the credentials file holds. */
export interface StoredCredentials {
  /** The API's base URL. */
  url?: string;
  api_key?: string;
  access_token?: string;
  refresh_token?: string;
  /** ISO 8601. */
  access_token_expires_at?: string;
  /** ISO 8601. */
  refresh_token_expires_at?: string;
  /** Who signed in, for `catalytic login` status lines. */
  email?: string;
}

/** The credentials file's path for an environment. */
export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CATALYTIC_CONFIG) return env.CATALYTIC_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'catalytic', 'credentials.json');
}

/** A credentials file that could not be used. */
export class CredentialsFileError extends Error {
  override name = 'CredentialsFileError';
}

/** Reads the credentials file; undefined when there is none. */
export async function readCredentials(path: string): Promise<StoredCredentials | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CredentialsFileError(`Cannot read ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CredentialsFileError(`${path} is not valid JSON; fix it or delete it and log in again`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CredentialsFileError(`${path} must hold a JSON object`);
  }
  const out: StoredCredentials = {};
  for (const key of ['url', 'api_key', 'access_token', 'refresh_token', 'access_token_expires_at', 'refresh_token_expires_at', 'email'] as const) {
    const value = (parsed as Record<string, unknown>)[key];
    if (typeof value === 'string' && value !== '') out[key] = value;
  }
  return out;
}

/** Whether group or others may read the file (its mode is looser than 0600). */
export async function credentialsFileIsExposed(path: string): Promise<boolean> {
  try {
    return ((await stat(path)).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

/** Writes the credentials file with mode 0600, replacing it atomically. */
export async function writeCredentials(path: string, credentials: StoredCredentials): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  // Created 0600 from the start (never briefly readable), whatever the umask.
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(credentials, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

/** Deletes the credentials file (no error when it is already gone). */
export async function deleteCredentials(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** Session tokens from a credentials file, when it holds some. */
export function storedTokens(credentials: StoredCredentials | undefined): SessionTokens | undefined {
  if (!credentials?.access_token) return undefined;
  const time = (iso: string | undefined) => {
    const ms = iso ? Date.parse(iso) : NaN;
    return Number.isNaN(ms) ? undefined : ms;
  };
  return {
    accessToken: credentials.access_token,
    refreshToken: credentials.refresh_token,
    accessTokenExpiresAt: time(credentials.access_token_expires_at),
    refreshTokenExpiresAt: time(credentials.refresh_token_expires_at),
  };
}

/** Credentials-file fields for session tokens (and none for a signed-out session). */
export function tokensToStored(tokens: SessionTokens | undefined): Pick<
  StoredCredentials,
  'access_token' | 'refresh_token' | 'access_token_expires_at' | 'refresh_token_expires_at'
> {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    access_token: tokens?.accessToken,
    refresh_token: tokens?.refreshToken,
    access_token_expires_at: iso(tokens?.accessTokenExpiresAt),
    refresh_token_expires_at: iso(tokens?.refreshTokenExpiresAt),
  };
}

/** Where the client's settings came from, for `catalytic` status output. */
export type CredentialSource = 'option' | 'env' | 'file' | 'none';

/** A resolved connection: the URL and whichever credentials apply. */
export interface ResolvedConnection {
  url: string;
  apiKey?: string;
  tokens?: SessionTokens;
  source: CredentialSource;
  /** The credentials file consulted (and where refreshed tokens are saved). */
  path: string;
  /** The file's content, when it exists. */
  stored?: StoredCredentials;
}

/**
 * Resolves URL and credentials: explicit options, then the environment, then the file. An API
 * key from anywhere wins over session tokens from the file.
 */
export async function resolveConnection(
  options: { url?: string; apiKey?: string; path?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedConnection> {
  const path = options.path ?? credentialsPath(env);
  const stored = await readCredentials(path);
  const url = options.url || env.CATALYTIC_URL || stored?.url || DEFAULT_API_URL;
  if (options.apiKey) return { url, apiKey: options.apiKey, source: 'option', path, stored };
  if (env.CATALYTIC_API_KEY) return { url, apiKey: env.CATALYTIC_API_KEY, source: 'env', path, stored };
  // Stored credentials belong to the URL they were made for; never send them elsewhere.
  const sameApi = !stored?.url || sameOrigin(stored.url, url);
  if (sameApi && stored?.api_key) return { url, apiKey: stored.api_key, source: 'file', path, stored };
  const tokens = sameApi ? storedTokens(stored) : undefined;
  if (tokens) return { url, tokens, source: 'file', path, stored };
  return { url, source: 'none', path, stored };
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).href.replace(/\/+$/, '') === new URL(b).href.replace(/\/+$/, '');
  } catch {
    return false;
  }
}
