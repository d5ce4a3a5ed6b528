import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { ConfigError, parseConfig } from '../../shared/config.ts';
import { createDbFromConfig } from '../../shared/db.ts';
import { spawnCatalytic } from '../support/processes.ts';

describe('configuration', () => {
  it('has local defaults for every setting', () => {
    const config = parseConfig({});
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/catalytic');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.PORT).toBe(8000);
    expect(config.KERNEL_THREADS).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['PORT', 'eighty', 'Invalid setting PORT: must be a number'],
    ['PORT', '70000', 'Invalid setting PORT: must be at most 65535'],
    ['WORKER_CONCURRENCY', '0', 'Invalid setting WORKER_CONCURRENCY: must be at least 1'],
    ['DATABASE_URL', 'mysql://localhost/x', 'Invalid setting DATABASE_URL: must be a URL starting with postgres:// or postgresql://'],
    ['REDIS_URL', 'not a url', 'Invalid setting REDIS_URL: must be a URL starting with redis:// or rediss://'],
    ['ADMIN_READ_ONLY', 'maybe', 'Invalid setting ADMIN_READ_ONLY: must be true or false'],
    ['LOG_LEVEL', 'loud', 'Invalid setting LOG_LEVEL'],
    ['DATABASE_CONNECT_TIMEOUT_MS', '50', 'Invalid setting DATABASE_CONNECT_TIMEOUT_MS: must be at least 100'],
  ])('rejects %s=%s with a message naming the variable', (name, value, message) => {
    const attempt = () => parseConfig({ [name]: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });

  it('gives up opening a PostgreSQL connection after DATABASE_CONNECT_TIMEOUT_MS', async () => {
    // A listener that accepts and never speaks: PostgreSQL too slow to answer.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const config = parseConfig({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/x`, DATABASE_CONNECT_TIMEOUT_MS: '300' });
    const db = createDbFromConfig(config, 'connect-timeout-test');
    try {
      await expect(db.raw('select 1')).rejects.toThrow(/timeout/i);
    } finally {
      await db.destroy();
      silent.close();
    }
    // Well before the 5 s default: a setting that did not reach the pool fails here.
  }, 4000);

  it('refuses a whole-request timeout shorter than the headers timeout instead of lifting it', () => {
    expect(() => parseConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '15000' })).toThrow(
      'Invalid setting HTTP_REQUEST_TIMEOUT_MS: must not be less than HTTP_HEADERS_TIMEOUT_MS (20000)',
    );
    expect(parseConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '20000' }).HTTP_REQUEST_TIMEOUT_MS).toBe(20000);
  });

  it('requires a password with an operator user, and a signing key in production', () => {
    expect(() => parseConfig({ ADMIN_USER: 'ops' })).toThrow('Invalid setting ADMIN_PASSWORD: is required when ADMIN_USER is set');
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow('Invalid setting JWT_PRIVATE_KEY_FILE');
  });

  it('takes the S3 blob backend only with a bucket, and both of its keys or neither', () => {
    expect(() => parseConfig({ BLOB_BACKEND: 's3' })).toThrow('Invalid setting S3_BUCKET: is required when BLOB_BACKEND is s3');
    expect(() => parseConfig({ BLOB_BACKEND: 'disk' })).toThrow('Invalid setting BLOB_BACKEND');
    expect(() => parseConfig({ BLOB_BACKEND: 's3', S3_BUCKET: 'No_Such' })).toThrow('Invalid setting S3_BUCKET: must be an S3 bucket name');
    expect(() => parseConfig({ BLOB_BACKEND: 's3', S3_BUCKET: 'blobs', S3_ENDPOINT: 'ftp://x' })).toThrow('Invalid setting S3_ENDPOINT');
    expect(() => parseConfig({ BLOB_BACKEND: 's3', S3_BUCKET: 'blobs', S3_PART_BYTES: String(2 ** 20) })).toThrow('Invalid setting S3_PART_BYTES: must be at least 5242880');
    expect(() => parseConfig({ BLOB_BACKEND: 's3', S3_BUCKET: 'blobs', S3_ACCESS_KEY_ID: 'AKIA' })).toThrow('Invalid setting S3_SECRET_ACCESS_KEY: is required with the other S3 key');
    expect(() => parseConfig({ BLOB_BACKEND: 's3', S3_BUCKET: 'blobs', S3_PREFIX: 'no-slash' })).toThrow('Invalid setting S3_PREFIX');
    const config = parseConfig({ BLOB_BACKEND: 's3', S3_BUCKET: 'blobs', S3_ENDPOINT: 'http://127.0.0.1:9000', S3_PREFIX: 'catalytic/' });
    expect(config).toMatchObject({ BLOB_BACKEND: 's3', S3_BUCKET: 'blobs', S3_REGION: 'us-east-1', S3_FORCE_PATH_STYLE: false, S3_PART_BYTES: 8 * 2 ** 20 });
  });

  it('refuses weak operator credentials in production, and only there', () => {
    const production = { NODE_ENV: 'production', JWT_PRIVATE_KEY: 'a pem', SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'), ADMIN_USER: 'operator' };
    for (const weak of ['change-me-operator', 'CHANGE-ME', 'operator', 'password123', 'operator2024!', 'operator-operator-operator']) {
      expect(() => parseConfig({ ...production, ADMIN_PASSWORD: weak }), weak).toThrow(/^Invalid setting ADMIN_PASSWORD: .*production refuses weak operator passwords/);
      expect(() => parseConfig({ ADMIN_USER: 'operator', ADMIN_PASSWORD: weak })).not.toThrow();
    }
    expect(() => parseConfig({ ...production, ADMIN_PASSWORD: 'Quartz-Lantern-81-Meadow!' })).not.toThrow();
    expect(() => parseConfig({ ...production, ADMIN_PASSWORD: 'Quartz-Lantern-81-Meadow!', ADMIN_TOKEN: 'CHANGE-ME' })).toThrow(
      'Invalid setting ADMIN_TOKEN: must be at least 32 random characters in production',
    );
    expect(() => parseConfig({ ...production, ADMIN_PASSWORD: 'Quartz-Lantern-81-Meadow!', METRICS_TOKEN: 'scrape' })).toThrow('Invalid setting METRICS_TOKEN');
    expect(() => parseConfig({ ...production, ADMIN_USER: '', METRICS_TOKEN: 'CHANGE-ME-to-the-output-of-openssl-rand' })).toThrow('Invalid setting METRICS_TOKEN');
    expect(() => parseConfig({ ...production, ADMIN_USER: '', ADMIN_TOKEN: 'x'.repeat(32), METRICS_TOKEN: 'y'.repeat(40) })).not.toThrow();
  });

  it('stops a production process with a weak operator password in one line', async () => {
    const proc = spawnCatalytic(['api'], { NODE_ENV: 'production', JWT_PRIVATE_KEY: 'a pem', ADMIN_USER: 'operator', ADMIN_PASSWORD: 'change-me-operator' });
    expect(await proc.exited).toBe(78);
    expect(proc.output().trim()).toMatch(/^catalytic: Invalid setting ADMIN_PASSWORD: [^\n]*$/);
  });

  it('lets a development install deliver webhooks to this machine, and nothing else unless told', () => {
    expect(parseConfig({}).WEBHOOK_ALLOW_PRIVATE_NETWORKS).toBe(true);
    expect(parseConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' }).WEBHOOK_ALLOW_PRIVATE_NETWORKS).toBe(false);
    expect(parseConfig({ NODE_ENV: 'test' }).WEBHOOK_ALLOW_PRIVATE_NETWORKS).toBe(false);
  });

  it('treats empty values as unset', () => {
    expect(parseConfig({ PORT: '', LOG_LEVEL: ' ' }).PORT).toBe(8000);
  });

  it('stops the executable with one line naming the variable and no stack trace', async () => {
    const proc = spawnCatalytic(['api'], { PORT: 'eighty' });
    const code = await proc.exited;
    expect(code).toBe(78);
    expect(proc.output().trim()).toBe('catalytic: Invalid setting PORT: must be a number');
  });
});
