/**
 * The client commands of the `catalytic` executable (login, lattices, jobs, batches and sweeps, results, webhooks,
 * usage, subscription) and the operators' `admin` commands, next to the server roles. Each talks
 * to the API through the SDK (`client/`).
 */
import type { Command } from 'commander';
import { registerAccountCommands } from './account.ts';
import { registerAdminCommands } from './admin.ts';
import { registerAuthCommands } from './auth.ts';
import { registerBatchCommands } from './batches.ts';
import { registerEmailCommands } from './email.ts';
import { registerJobCommands } from './jobs.ts';
import { registerLatticeCommands } from './lattice.ts';
import { registerNotificationCommands } from './notifications.ts';
import { registerSubmitCommand } from './submit.ts';
import { registerSweepCommand } from './sweep.ts';
import { registerSubscriptionCommands } from './subscription.ts';
import { registerTeamCommands } from './team.ts';
import { registerWebhookCommands } from './webhooks.ts';

export { CLIENT_EXIT } from './exit-codes.ts';

export function registerClientCommands(program: Command): void {
  registerAuthCommands(program);
  registerTeamCommands(program);
  registerEmailCommands(program);
  registerNotificationCommands(program);
  registerLatticeCommands(program);
  registerSubmitCommand(program);
  registerJobCommands(program);
  registerBatchCommands(program);
  registerSweepCommand(program);
  registerWebhookCommands(program);
  registerAccountCommands(program);
  registerSubscriptionCommands(program);
  registerAdminCommands(program);
}
