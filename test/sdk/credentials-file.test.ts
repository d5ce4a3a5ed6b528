/**
 * The credentials file: written with mode 0600 in a 0700 directory whatever the umask, replaced
 * atomically; and the order in which a client finds its URL and credentials (options, then the
 * environment, then the file), never sending a stored secret to another API.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CatalyticAuthRequiredError,
  CatalyticClient,
  credentialsFileIsExposed,
  credentialsPath,
  CredentialsFileError,
  DEFAULT_API_URL,
  readCredentials,
  resolveConnection,
  storedTokens,
  tokensToStored,
  writeCredentials,
} from '../../client/index.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'catalytic-credentials-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('credentials file', () => {
  it('is written 0600 in a 0700 directory even under a permissive umask, and read back', async () => {
    const path = join(dir, 'nested', 'catalytic', 'credentials.json');
    const previous = process.umask(0o000);
    try {
      await writeCredentials(path, { url: 'http://api.example.test', api_key: 'ck_abcdefgh_secret' });
    } finally {
      process.umask(previous);
    }
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'nested', 'catalytic'))).mode & 0o777).toBe(0o700);
    expect(await readCredentials(path)).toEqual({ url: 'http://api.example.test', api_key: 'ck_abcdefgh_secret' });
    expect(await credentialsFileIsExposed(path)).toBe(false);

    // Rewriting keeps the mode and leaves no temporary file behind.
    await writeCredentials(path, { url: 'http://api.example.test', email: 'a@example.test' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ url: 'http://api.example.test', email: 'a@example.test' });
  });

  it('reports a file other users can read, and a file that is not JSON', async () => {
    const path = join(dir, 'loose.json');
    await writeFile(path, '{"api_key":"ck_abcdefgh_x"}', { mode: 0o644 });
    expect(await credentialsFileIsExposed(path)).toBe(true);
    await writeFile(path, 'not json');
    await expect(readCredentials(path)).rejects.toBeInstanceOf(CredentialsFileError);
    expect(await readCredentials(join(dir, 'missing.json'))).toBeUndefined();
  });

  it('round-trips session tokens with their expiries', () => {
    const tokens = { accessToken: 'a.b.c', refreshToken: 'crt_x', accessTokenExpiresAt: 1_900_000_000_000, refreshTokenExpiresAt: 1_900_000_600_000 };
    expect(storedTokens(tokensToStored(tokens))).toEqual(tokens);
    expect(storedTokens({ url: 'http://x' })).toBeUndefined();
  });

  it('lives at $CATALYTIC_CONFIG, else under $XDG_CONFIG_HOME, else ~/.config', () => {
    expect(credentialsPath({ CATALYTIC_CONFIG: '/etc/cat.json', HOME: '/home/u' })).toBe('/etc/cat.json');
    expect(credentialsPath({ XDG_CONFIG_HOME: '/xdg', HOME: '/home/u' })).toBe('/xdg/catalytic/credentials.json');
    expect(credentialsPath({ HOME: '/home/u' })).toBe('/home/u/.config/catalytic/credentials.json');
  });
});

describe('resolveConnection', () => {
  it('prefers options, then the environment, then the file, then the default URL', async () => {
    const path = join(dir, 'resolve.json');
    await writeCredentials(path, { url: 'http://file.test', api_key: 'ck_filekey1_secret' });
    const env = { CATALYTIC_CONFIG: path };

    expect(await resolveConnection({}, env)).toMatchObject({ url: 'http://file.test', apiKey: 'ck_filekey1_secret', source: 'file' });
    expect(await resolveConnection({}, { ...env, CATALYTIC_URL: 'http://file.test', CATALYTIC_API_KEY: 'ck_envkey12_secret' })).toMatchObject({
      url: 'http://file.test',
      apiKey: 'ck_envkey12_secret',
      source: 'env',
    });
    expect(await resolveConnection({ url: 'http://file.test/', apiKey: 'ck_optkey12_secret' }, { ...env, CATALYTIC_API_KEY: 'ck_envkey12_secret' })).toMatchObject({
      apiKey: 'ck_optkey12_secret',
      source: 'option',
    });
    expect(await resolveConnection({}, { CATALYTIC_CONFIG: join(dir, 'none.json') })).toMatchObject({ url: DEFAULT_API_URL, source: 'none' });
  });

  it('never sends stored credentials to a different API', async () => {
    const path = join(dir, 'other.json');
    await writeCredentials(path, { url: 'http://file.test', access_token: 'a.b.c', refresh_token: 'crt_y' });
    const elsewhere = await resolveConnection({ url: 'http://elsewhere.test' }, { CATALYTIC_CONFIG: path });
    expect(elsewhere).toMatchObject({ url: 'http://elsewhere.test', source: 'none' });
    expect(elsewhere.tokens).toBeUndefined();
    const same = await resolveConnection({}, { CATALYTIC_CONFIG: path });
    expect(same).toMatchObject({ url: 'http://file.test', source: 'file', tokens: { accessToken: 'a.b.c', refreshToken: 'crt_y' } });
  });

  it('builds a client from the environment like the CLI does', async () => {
    const client = await CatalyticClient.fromEnvironment({}, { CATALYTIC_URL: 'http://127.0.0.1:9/base/', CATALYTIC_API_KEY: 'ck_envkey12_secret', CATALYTIC_CONFIG: join(dir, 'none.json') });
    expect(client.http.baseUrl).toBe('http://127.0.0.1:9/base');
    expect(client.http.hasCredentials).toBe(true);
    expect(client.http.url('/api/jobs', { status: 'queued', cursor: undefined })).toBe('http://127.0.0.1:9/base/api/jobs?status=queued');
  });

  it('names the option at fault when constructed badly', () => {
    expect(() => new CatalyticClient({ baseUrl: 'localhost:8000' })).toThrow(/options.baseUrl/);
    expect(() => new CatalyticClient({ baseUrl: 'http://x', retry: { retries: -1 } })).toThrow(/options.retry.retries/);
  });
});

describe('without credentials', () => {
  it('refuses to call an authenticated route, saying how to sign in', async () => {
    const client = new CatalyticClient({ baseUrl: 'http://127.0.0.1:9' });
    await expect(client.jobs.list()).rejects.toBeInstanceOf(CatalyticAuthRequiredError);
  });
});
