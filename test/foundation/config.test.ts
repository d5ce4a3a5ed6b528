import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../shared/config.ts';
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
  ])('rejects %s=%s with a message naming the variable', (name, value, message) => {
    const attempt = () => parseConfig({ [name]: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });

  it('requires a password with an operator user, and a signing key in production', () => {
    expect(() => parseConfig({ ADMIN_USER: 'ops' })).toThrow('Invalid setting ADMIN_PASSWORD: is required when ADMIN_USER is set');
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow('Invalid setting JWT_PRIVATE_KEY_FILE');
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
