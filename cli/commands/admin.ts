/**
 * `catalytic admin plan-requests list | approve <id> | reject <id>`: operators decide tenants'
 * requests for paid plans over the API's `/admin/api/plan-requests`, with operator credentials
 * (never a tenant's): `--admin-token` or $CATALYTIC_ADMIN_TOKEN (the server's ADMIN_TOKEN), or
 * `--admin-user` with $CATALYTIC_ADMIN_PASSWORD (the server's ADMIN_USER and ADMIN_PASSWORD).
 */
import type { Command } from 'commander';
import { DEFAULT_API_URL, HttpClient } from '../../client/index.ts';
import type { PlanRequest } from '../../client/index.ts';
import { VERSION } from '../../shared/version.ts';
import { UsageError } from './cli-errors.ts';
import { CLIENT_EXIT } from './exit-codes.ts';
import { formatTime, renderFields, renderTable } from './format.ts';
import { describeFailure } from './session.ts';

const STATUSES = ['pending', 'approved', 'rejected', 'cancelled'] as const;

/** A plan request as operators see it. */
type AdminPlanRequest = PlanRequest & { tenant_id: string; tenant_name?: string; requested_by: string | null; decided_by: string | null };

interface AdminOptions {
  url?: string;
  adminUser?: string;
  adminToken?: string;
  json?: boolean;
}

/** The `Authorization` header of the operator credentials given (flags first, then the environment). */
export function operatorAuthorization(options: AdminOptions, env: NodeJS.ProcessEnv = process.env): string {
  const token = options.adminToken ?? env.CATALYTIC_ADMIN_TOKEN;
  const user = options.adminUser ?? env.CATALYTIC_ADMIN_USER;
  if (user) {
    const password = env.CATALYTIC_ADMIN_PASSWORD;
    if (!password) throw new UsageError('--admin-user needs the password in $CATALYTIC_ADMIN_PASSWORD');
    return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  if (token) return `Bearer ${token}`;
  throw new UsageError('operator credentials are required: --admin-token (or $CATALYTIC_ADMIN_TOKEN), or --admin-user with $CATALYTIC_ADMIN_PASSWORD');
}

function adminCommand(parent: Command, nameAndArgs: string, description: string): Command {
  return parent
    .command(nameAndArgs)
    .description(description)
    .option('--url <url>', `API base URL (default: $CATALYTIC_URL or ${DEFAULT_API_URL})`)
    .option('--admin-token <token>', 'operator token, the server\'s ADMIN_TOKEN (default: $CATALYTIC_ADMIN_TOKEN)')
    .option('--admin-user <user>', 'operator user, the server\'s ADMIN_USER (default: $CATALYTIC_ADMIN_USER); password from $CATALYTIC_ADMIN_PASSWORD')
    .option('--json', 'machine-readable JSON on stdout');
}

interface AdminSession {
  json: boolean;
  request<T>(method: string, path: string, options?: { query?: Record<string, string | number | undefined>; body?: unknown }): Promise<T>;
  out(text: string): void;
}

function adminAction<A extends unknown[]>(body: (session: AdminSession, ...args: A) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args.at(-1) as Command;
    const options = command.optsWithGlobals<AdminOptions>();
    let exitCode: number = CLIENT_EXIT.ok;
    try {
      const authorization = operatorAuthorization(options);
      const http = new HttpClient({ baseUrl: options.url || process.env.CATALYTIC_URL || DEFAULT_API_URL, userAgent: `catalytic-cli/${VERSION}` });
      await body(
        {
          json: Boolean(options.json),
          request: async <T>(method: string, path: string, request: { query?: Record<string, string | number | undefined>; body?: unknown } = {}) =>
            (await http.request<T>(method, path, { ...request, auth: false, headers: { authorization } })).body,
          out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
        },
        ...(args.slice(0, -1) as A),
      );
    } catch (err) {
      const failure = describeFailure(err);
      // Not a tenant session: point at the operator credentials, not at `catalytic login`.
      const message = failure.message.replace(/^\s*run `catalytic login`.*$/m, '  check the operator credentials (the server\'s ADMIN_TOKEN, or ADMIN_USER and ADMIN_PASSWORD)');
      process.stderr.write(`catalytic: ${message}\n`);
      exitCode = failure.exitCode;
    }
    process.exit(exitCode);
  };
}

function show(session: AdminSession, request: AdminPlanRequest): void {
  if (session.json) {
    session.out(JSON.stringify(request, null, 2));
    return;
  }
  session.out(
    renderFields([
      ['request', request.id],
      ['tenant', `${request.tenant_name ? `${request.tenant_name} ` : ''}(${request.tenant_id})`],
      ['plan', `${request.from_plan} → ${request.to_plan}`],
      ['status', request.status],
      ['asked', formatTime(request.created_at)],
      ['decided', request.decided_at ? `${formatTime(request.decided_at)} by ${request.decided_by ?? '?'}` : '-'],
      ['reason', request.reason ?? '-'],
    ]),
  );
}

export function registerAdminCommands(program: Command): void {
  const admin = program.command('admin').description('operator commands (operator credentials, not a tenant login)');
  const requests = admin.command('plan-requests').description("tenants' requests for paid plans: list, approve, reject");

  adminCommand(requests, 'list', 'list plan requests, oldest first (default: pending ones)')
    .option('--status <status>', `${STATUSES.join(', ')} or all`, 'pending')
    .option('--limit <n>', 'at most this many (1..500)', '100')
    .action(
      adminAction(async (session, options: { status: string; limit: string }) => {
        if (options.status !== 'all' && !(STATUSES as readonly string[]).includes(options.status)) {
          throw new UsageError(`--status: expected one of ${STATUSES.join(', ')}, all`);
        }
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit: expected an integer from 1 to 500');
        const { data } = await session.request<{ data: AdminPlanRequest[] }>('GET', '/admin/api/plan-requests', {
          query: { status: options.status === 'all' ? undefined : options.status, limit },
        });
        if (session.json) {
          session.out(JSON.stringify({ data }, null, 2));
          return;
        }
        if (data.length === 0) {
          session.out(`No ${options.status === 'all' ? '' : `${options.status} `}plan requests`);
          return;
        }
        session.out(
          renderTable(data, [
            { header: 'ID', value: (r) => r.id },
            { header: 'TENANT', value: (r) => r.tenant_name ?? r.tenant_id },
            { header: 'FROM', value: (r) => r.from_plan },
            { header: 'TO', value: (r) => r.to_plan },
            { header: 'STATUS', value: (r) => r.status },
            { header: 'ASKED', value: (r) => formatTime(r.created_at) },
          ]),
        );
      }),
    );

  for (const [verb, past] of [['approve', 'Approved'], ['reject', 'Rejected']] as const) {
    adminCommand(requests, `${verb} <id>`, verb === 'approve' ? 'approve a pending request: the tenant moves to the plan at once' : 'reject a pending request: the tenant keeps its plan')
      .option('--reason <text>', 'why (shown to the tenant)')
      .action(
        adminAction(async (session, id: string, options: { reason?: string }) => {
          const decided = await session.request<AdminPlanRequest>('POST', `/admin/api/plan-requests/${encodeURIComponent(id)}/${verb}`, {
            body: options.reason ? { reason: options.reason } : {},
          });
          if (session.json) show(session, decided);
          else {
            session.out(`${past} request ${decided.id}: ${decided.tenant_name ?? decided.tenant_id} ${verb === 'approve' ? `is now on ${decided.to_plan}` : `stays on ${decided.from_plan}`}`);
          }
        }),
      );
  }
}
