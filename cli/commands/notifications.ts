/** `catalytic notifications show|set`: which notifications the signed-in user is mailed. */
import { type Command, InvalidArgumentError } from 'commander';
import type { NotificationPreferences, NotificationPreferencesChange } from '../../client/index.ts';
import { UsageError } from './cli-errors.ts';
import { renderFields } from './format.ts';
import { clientAction, clientCommand, type Session } from './session.ts';

const TOPICS = [
  ['plan_requests', '--plan-requests', 'planRequests', 'a plan request decided by an operator'],
  ['webhooks', '--webhooks', 'webhooks', 'a webhook endpoint disabled after failing'],
  ['quotas', '--quotas', 'quotas', 'a quota at 80% or 100%'],
] as const;

function onOff(value: string): boolean {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new InvalidArgumentError('expected on or off');
}

function show(session: Session, view: NotificationPreferences): void {
  if (session.json) {
    session.printJson(view);
    return;
  }
  const state = (topic: keyof NotificationPreferences['settings']) =>
    `${view.settings[topic] ? 'on' : 'off'}${view.settings[topic] === view.defaults[topic] ? '' : ` (default ${view.defaults[topic] ? 'on' : 'off'})`}`;
  session.out(renderFields([['email', view.email], ...TOPICS.map(([topic]) => [topic.replace('_', ' '), state(topic)] as [string, string])]));
}

export function registerNotificationCommands(program: Command): void {
  const notifications = program.command('notifications').description('which notifications you are mailed (owners: all on by default)');

  clientCommand(notifications, 'show', 'your notification choices')
    .action(clientAction(async (session) => show(session, await session.client.notifications.get())));

  const set = clientCommand(notifications, 'set', 'turn topics on or off; the others stay as they are');
  for (const [, flag, , what] of TOPICS) set.option(`${flag} <on|off>`, `mail me when ${what}`, onOff);
  set.action(
    clientAction(async (session, options: { planRequests?: boolean; webhooks?: boolean; quotas?: boolean }) => {
      const changes: NotificationPreferencesChange = {};
      for (const [topic, , key] of TOPICS) if (options[key] !== undefined) changes[topic] = options[key];
      if (Object.keys(changes).length === 0) throw new UsageError(`name at least one of ${TOPICS.map(([, flag]) => flag).join(', ')}`);
      show(session, await session.client.notifications.set(changes));
    }),
  );
}
