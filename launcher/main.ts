/**
 * The `catalytic` executable. Server roles run the system; `catalytic --help` lists everything.
 */
import { Command } from 'commander';
import { VERSION } from '../shared/version.ts';
import { registerClientCommands } from '../cli/commands/index.ts';
import type { ServerRole } from './roles.ts';

// The server side loads only when a role runs, so client commands start quickly.
const roleRunner = () => import('./roles.ts');
const backupCommands = () => import('./backup-commands.ts');

const program = new Command('catalytic')
  .description('Catalytic: a multi-tenant compute cluster for lattice jobs')
  .version(VERSION)
  // Usage errors (unknown command or option, bad argument) exit 2; --help and --version exit 0.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

const roles: Array<[ServerRole, string]> = [
  ['all', 'run migrations, then the API, a worker and the scheduler in one process'],
  ['api', 'serve the HTTP API'],
  ['worker', 'fetch jobs fairly across tenants and run them on the kernel thread pool'],
  ['scheduler', 'run retention, backup, webhook-retry and reconcile jobs'],
  ['migrate', 'apply pending database migrations and exit'],
];
for (const [role, description] of roles) {
  program
    .command(role)
    .description(description)
    .action(async () => {
      const { runRole } = await roleRunner();
      process.exit(await runRole(role));
    });
}

program
  .command('backup')
  .description('dump the database into BACKUP_DIR now (pg_dump), keeping the newest BACKUP_KEEP dumps')
  .action(async () => {
    const { runBackup } = await backupCommands();
    process.exit(await runBackup());
  });
program
  .command('restore')
  .argument('<file>', 'a dump written by `catalytic backup` or the scheduler')
  .description('restore a dump into the (empty) database of DATABASE_URL')
  .action(async (file: string) => {
    const { runRestore } = await backupCommands();
    process.exit(await runRestore(file));
  });

program
  .command('rotate-secrets')
  .description('reseal every webhook secret with SECRETS_KEY (after a rotation; earlier keys in SECRETS_PREVIOUS_KEYS)')
  .action(async () => {
    const { runRotateSecrets } = await backupCommands();
    process.exit(await runRotateSecrets());
  });

registerClientCommands(program);

await program.parseAsync(process.argv);
