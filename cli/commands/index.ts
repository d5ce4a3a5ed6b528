/**
 * The client commands of the `catalytic` executable (login, lattices, jobs, results, webhooks,
 * usage), next to the server roles. Each talks to the API through the SDK (`shared/client`).
 */
import type { Command } from 'commander';
import { registerAccountCommands } from './account.ts';
import { registerAuthCommands } from './auth.ts';
import { registerJobCommands } from './jobs.ts';
import { registerLatticeCommands } from './lattice.ts';
import { registerSubmitCommand } from './submit.ts';
import { registerWebhookCommands } from './webhooks.ts';

export { CLIENT_EXIT } from './exit-codes.ts';

export function registerClientCommands(program: Command): void {
  registerAuthCommands(program);
  registerLatticeCommands(program);
  registerSubmitCommand(program);
  registerJobCommands(program);
  registerWebhookCommands(program);
  registerAccountCommands(program);
}
