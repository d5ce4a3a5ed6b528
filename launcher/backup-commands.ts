/**
 * `catalytic backup` (take a dump now, as the scheduler does daily), `catalytic restore FILE`
 * (bring one back into an empty database) and `catalytic rotate-secrets` (reseal webhook secrets
 * with the current key). Both exit 0 on success, 1 on failure, 69 when
 * PostgreSQL does not answer and 78 on a bad setting.
 */
import { type Config, loadConfig } from '../shared/config.ts';
import { checkPostgres, DependencyError } from '../shared/dependencies.ts';
import { createDbFromConfig } from '../shared/db.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { resealWebhookSecrets } from '../shared/webhooks/reseal-secrets.ts';
import { loadSecretBox } from '../shared/webhooks/secret-keys.ts';
import { restoreBackup, takeBackup } from '../shared/backup.ts';
import { EXIT } from './roles.ts';

async function withConfig(name: string, fn: (config: Config, logger: Logger) => Promise<void>): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`catalytic: ${(err as Error).message}\n`);
    return EXIT.config;
  }
  const logger = createLogger(config, `catalytic:${name}`);
  try {
    await checkPostgres(config);
    await fn(config, logger);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof DependencyError) {
      process.stderr.write(`catalytic: ${err.message}\n`);
      return EXIT.unavailable;
    }
    logger.error({ err }, `catalytic ${name} failed`);
    return EXIT.failed;
  }
}

export function runBackup(): Promise<number> {
  return withConfig('backup', async (config, logger) => {
    const report = await takeBackup(config);
    logger.info(report, `backup written to ${report.file}`);
  });
}

/** Reseals every webhook secret with the current SECRETS_KEY (after a rotation, or to encrypt old plain text). */
export function runRotateSecrets(): Promise<number> {
  return withConfig('rotate-secrets', async (config, logger) => {
    const db = createDbFromConfig(config, 'catalytic:rotate-secrets', logger);
    try {
      const box = loadSecretBox(config);
      const report = await resealWebhookSecrets(db, box, { logger });
      logger.info({ ...report, keyId: box.currentKeyId }, `${report.resealed} webhook secret(s) resealed with key ${box.currentKeyId}`);
      if (report.unreadable) throw new Error(`${report.unreadable} webhook secret(s) open with no configured key: add the old key to SECRETS_PREVIOUS_KEYS`);
    } finally {
      await db.destroy();
    }
  });
}

export function runRestore(file: string): Promise<number> {
  return withConfig('restore', async (config, logger) => {
    const report = await restoreBackup(config, file, { create: config.DATABASE_CREATE });
    logger.info(report, `restored ${report.file} into ${report.database}`);
  });
}
