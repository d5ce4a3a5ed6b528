/** `catalytic webhooks create | list | show | update | delete | rotate-secret | listen | test | deliveries | redeliver`. */
import type { Command } from 'commander';
import { JOB_EVENT_TYPES } from '../../shared/webhooks/job-events.ts';
import type { UpdateWebhookInput, WebhookDelivery, WebhookEndpoint } from '../../client/index.ts';
import { parseCount, parseList } from './arguments.ts';
import { UsageError } from './cli-errors.ts';
import { formatTime, renderFields, renderTable } from './format.ts';
import { CLIENT_EXIT } from './exit-codes.ts';
import { clientAction, clientCommand, type Session } from './session.ts';
import { registerWebhookListen } from './webhooks-listen.ts';

function checkEvents(events: string[] | undefined): Array<(typeof JOB_EVENT_TYPES)[number]> | undefined {
  if (!events) return undefined;
  const unknown = events.filter((e) => !(JOB_EVENT_TYPES as readonly string[]).includes(e));
  if (unknown.length) throw new UsageError(`--events: unknown ${unknown.join(', ')}; expected ${JOB_EVENT_TYPES.join(', ')}`);
  return events as Array<(typeof JOB_EVENT_TYPES)[number]>;
}

function endpointFields(endpoint: WebhookEndpoint): Array<[string, string]> {
  return [
    ['id', endpoint.id],
    ['url', endpoint.url],
    ['events', endpoint.events.join(' ')],
    ['enabled', endpoint.enabled ? 'yes' : `no${endpoint.disabled_reason ? ` (${endpoint.disabled_reason})` : ''}`],
    ['description', endpoint.description ?? '-'],
    ['failing since', formatTime(endpoint.failing_since)],
    ['created', formatTime(endpoint.created_at)],
  ];
}

/**
 * Exit code after a test or a redelivery: 0 when the endpoint answered 2xx, 1 when the attempt
 * failed (the delivery stays retried like any other).
 */
function attemptExitCode(session: Session, delivery: WebhookDelivery): number {
  if (delivery.status === 'succeeded') return CLIENT_EXIT.ok;
  const answer = delivery.last_status_code === null ? 'no answer' : `HTTP ${delivery.last_status_code}`;
  session.note(`The attempt failed (${answer}${delivery.last_error ? `: ${delivery.last_error}` : ''})`);
  return CLIENT_EXIT.failed;
}

function deliveryFields(delivery: WebhookDelivery): string {
  return renderFields([
    ['id', delivery.id],
    ['event', `${delivery.event_type} ${delivery.event_id}`],
    ['status', delivery.status],
    ['attempts', String(delivery.attempts)],
    ['last answer', delivery.last_status_code === null ? '-' : `HTTP ${delivery.last_status_code} in ${delivery.last_latency_ms ?? '?'}ms`],
    ['last error', delivery.last_error ?? '-'],
    ['next attempt', formatTime(delivery.next_attempt_at)],
  ]);
}

export function registerWebhookCommands(program: Command): void {
  const webhooks = program.command('webhooks').description('manage webhook endpoints and their deliveries');
  const eventsHelp = `comma-separated: ${JOB_EVENT_TYPES.join(', ')}`;

  clientCommand(webhooks, 'create', 'register an endpoint (its signing secret is shown once)')
    .requiredOption('--endpoint <url>', 'where events are POSTed')
    .option('--events <list>', eventsHelp, parseList)
    .option('--description <text>', 'a note for people')
    .option('--disabled', 'create it disabled')
    .action(
      clientAction(async (session, options: { endpoint: string; events?: string[]; description?: string; disabled?: boolean }) => {
        const created = await session.client.webhooks.create({
          url: options.endpoint,
          events: checkEvents(options.events) ?? [...JOB_EVENT_TYPES],
          ...(options.description !== undefined ? { description: options.description } : {}),
          enabled: !options.disabled,
        });
        if (session.json) {
          session.printJson(created);
          return;
        }
        session.out(renderFields([...endpointFields(created), ['secret', created.secret]]));
        session.note('Keep the secret: it verifies the webhook-signature header and is not shown again.');
      }),
    );

  clientCommand(webhooks, 'list', 'list the endpoints')
    .action(
      clientAction(async (session) => {
        const endpoints = await session.client.webhooks.list();
        if (session.json) {
          session.printJson({ data: endpoints });
          return;
        }
        session.out(
          renderTable(endpoints, [
            { header: 'ID', value: (e) => e.id },
            { header: 'URL', value: (e) => e.url },
            { header: 'EVENTS', value: (e) => e.events.join(',') },
            { header: 'ENABLED', value: (e) => (e.enabled ? 'yes' : 'no') },
            { header: 'FAILING SINCE', value: (e) => formatTime(e.failing_since) },
          ]),
        );
      }),
    );

  clientCommand(webhooks, 'show <id>', 'show an endpoint')
    .action(
      clientAction(async (session, id: string) => {
        const endpoint = await session.client.webhooks.get(id);
        if (session.json) session.printJson(endpoint);
        else session.out(renderFields(endpointFields(endpoint)));
      }),
    );

  clientCommand(webhooks, 'update <id>', 'change an endpoint')
    .option('--endpoint <url>', 'new URL')
    .option('--events <list>', eventsHelp, parseList)
    .option('--description <text>', 'new note (empty to clear)')
    .option('--enable', 'enable it (clears its failure history)')
    .option('--disable', 'disable it')
    .action(
      clientAction(
        async (session, id: string, options: { endpoint?: string; events?: string[]; description?: string; enable?: boolean; disable?: boolean }) => {
          if (options.enable && options.disable) throw new UsageError('give --enable or --disable, not both');
          const input: UpdateWebhookInput = {
            ...(options.endpoint !== undefined ? { url: options.endpoint } : {}),
            ...(options.events !== undefined ? { events: checkEvents(options.events) } : {}),
            ...(options.description !== undefined ? { description: options.description === '' ? null : options.description } : {}),
            ...(options.enable ? { enabled: true } : options.disable ? { enabled: false } : {}),
          };
          if (Object.keys(input).length === 0) throw new UsageError('nothing to change: give --endpoint, --events, --description, --enable or --disable');
          const endpoint = await session.client.webhooks.update(id, input);
          if (session.json) session.printJson(endpoint);
          else session.out(renderFields(endpointFields(endpoint)));
        },
      ),
    );

  clientCommand(webhooks, 'delete <id>', 'delete an endpoint')
    .action(
      clientAction(async (session, id: string) => {
        await session.client.webhooks.delete(id);
        if (session.json) session.printJson({ id, deleted: true });
        else session.out(`Deleted webhook ${id}`);
      }),
    );

  clientCommand(webhooks, 'rotate-secret <id>', 'issue a new signing secret (the previous one keeps signing for a while)')
    .option('--previous-ttl <seconds>', 'how long the previous secret keeps signing (default 86400)', parseCount)
    .action(
      clientAction(async (session, id: string, options: { previousTtl?: number }) => {
        const rotated = await session.client.webhooks.rotateSecret(
          id,
          options.previousTtl === undefined ? {} : { previous_secret_ttl_s: options.previousTtl },
        );
        if (session.json) session.printJson(rotated);
        else session.out(renderFields([['secret', rotated.secret], ['previous secret until', formatTime(rotated.previous_secret_expires_at)]]));
      }),
    );

  registerWebhookListen(webhooks);

  clientCommand(webhooks, 'test <id>', 'send a signed webhook.test event now and show the attempt (exit 1 if it failed)')
    .action(
      clientAction(async (session, id: string) => {
        const delivery = await session.client.webhooks.test(id);
        if (session.json) session.printJson(delivery);
        else session.out(deliveryFields(delivery));
        return attemptExitCode(session, delivery);
      }),
    );

  clientCommand(webhooks, 'deliveries <id>', "list an endpoint's deliveries, newest first")
    .option('--status <status>', 'pending, succeeded or failed')
    .option('--limit <n>', 'deliveries per page (1-100)', parseCount)
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .action(
      clientAction(async (session, id: string, options: { status?: string; limit?: number; cursor?: string }) => {
        if (options.status && !['pending', 'succeeded', 'failed'].includes(options.status)) {
          throw new UsageError('--status: expected pending, succeeded or failed');
        }
        const page = await session.client.webhooks.deliveries(id, {
          status: options.status as WebhookDelivery['status'] | undefined,
          limit: options.limit,
          cursor: options.cursor,
        });
        if (session.json) {
          session.printJson(page);
          return;
        }
        session.out(
          renderTable(page.data, [
            { header: 'ID', value: (d) => d.id },
            { header: 'EVENT', value: (d) => d.event_type },
            { header: 'STATUS', value: (d) => d.status },
            { header: 'ATTEMPTS', value: (d) => String(d.attempts), align: 'right' },
            { header: 'LAST', value: (d) => (d.last_status_code === null ? '-' : String(d.last_status_code)), align: 'right' },
            { header: 'CREATED', value: (d) => formatTime(d.created_at) },
          ]),
        );
        if (page.next_cursor) session.note(`more: catalytic webhooks deliveries ${id} --cursor ${page.next_cursor}`);
      }),
    );

  clientCommand(webhooks, 'redeliver <id> <deliveryId>', 'send a delivery again now, same webhook-id (exit 1 if it failed)')
    .action(
      clientAction(async (session, id: string, deliveryId: string) => {
        const delivery = await session.client.webhooks.redeliver(id, deliveryId);
        if (session.json) session.printJson(delivery);
        else session.out(deliveryFields(delivery));
        return attemptExitCode(session, delivery);
      }),
    );
}
