/** `catalytic usage`, `catalytic plans` and `catalytic api-keys create | list | revoke`. */
import type { Command } from 'commander';
import { SCOPES } from '../../shared/auth/principal.ts';
import type { Scope } from '../../client/index.ts';
import { parseList } from './arguments.ts';
import { UsageError } from './cli-errors.ts';
import { formatCount, formatLimit, formatTime, renderFields, renderTable } from './format.ts';
import { clientAction, clientCommand } from './session.ts';

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** `jobs:*` stands for every scope of jobs (`jobs:read`, `jobs:write`); other names stay as given. */
function expandScopes(scopes: string[]): string[] {
  const out = scopes.flatMap((s) => {
    const matches = s.endsWith(':*') ? SCOPES.filter((known) => known.startsWith(s.slice(0, -1))) : [];
    return matches.length > 0 ? matches : [s];
  });
  return [...new Set(out)];
}

export function registerAccountCommands(program: Command): void {
  clientCommand(program, 'usage', "the tenant's usage: this month against the plan's quotas, and per day")
    .option('--from <day>', 'first day, YYYY-MM-DD (default: the first of this month)')
    .option('--to <day>', 'last day, YYYY-MM-DD (default: today)')
    .action(
      clientAction(async (session, options: { from?: string; to?: string }) => {
        for (const [name, value] of [['--from', options.from], ['--to', options.to]] as const) {
          if (value !== undefined && !DAY_PATTERN.test(value)) throw new UsageError(`${name}: expected a day like 2025-01-31`);
        }
        const usage = await session.client.usage({ from: options.from, to: options.to });
        if (session.json) {
          session.printJson(usage);
          return;
        }
        const quota = (q: { used: number; limit: number; remaining: number | null }) =>
          `${formatCount(q.used)} of ${formatLimit(q.limit)}${q.remaining === null ? '' : ` (${formatCount(q.remaining)} left)`}`;
        const jobTypes = Object.entries(usage.month.totals).filter(([metric]) => metric.startsWith('jobs.'));
        session.out(
          renderFields([
            ['month from', usage.month.start],
            ['API calls', quota(usage.month.quotas.api_calls)],
            ['jobs', quota(usage.month.quotas.jobs)],
            ['compute units', quota(usage.month.quotas.compute_units)],
            ...jobTypes.map(([metric, value]) => [`  ${metric.slice('jobs.'.length)}`, formatCount(value)] as [string, string]),
            ['compute cells', formatCount(usage.month.totals.compute_cells ?? 0)],
          ]),
        );
        const days = usage.days.filter((d) => Object.keys(d.metrics).length > 0);
        if (days.length === 0) return;
        const metrics = [...new Set(days.flatMap((d) => Object.keys(d.metrics)))].sort();
        session.out(
          `\n${renderTable(days, [
            { header: 'DAY', value: (d) => d.day },
            ...metrics.map((metric) => ({ header: metric.toUpperCase(), value: (d: (typeof days)[number]) => formatCount(d.metrics[metric] ?? 0), align: 'right' as const })),
          ])}`,
        );
      }),
    );

  clientCommand(program, 'plans', 'the plans and their limits')
    .action(
      clientAction(async (session) => {
        const plans = await session.client.plans();
        if (session.json) {
          session.printJson({ data: plans });
          return;
        }
        session.out(
          renderTable(plans, [
            { header: 'PLAN', value: (p) => p.code },
            { header: 'PRICE/MONTH', value: (p) => `$${(p.price_cents / 100).toFixed(2)}`, align: 'right' },
            { header: 'LATTICES', value: (p) => formatLimit(p.max_lattices), align: 'right' },
            { header: 'DIMS', value: (p) => formatLimit(p.max_dimensions), align: 'right' },
            { header: 'SIDE', value: (p) => formatLimit(p.max_side), align: 'right' },
            { header: 'API CALLS/MONTH', value: (p) => formatLimit(p.api_calls_per_month), align: 'right' },
            { header: 'WEIGHT', value: (p) => String(p.weight), align: 'right' },
            { header: 'CONCURRENT', value: (p) => formatLimit(p.max_concurrent_jobs), align: 'right' },
            { header: 'UNITS/JOB', value: (p) => formatLimit(p.max_compute_units_per_job), align: 'right' },
            { header: 'UNITS/MONTH', value: (p) => formatLimit(p.compute_units_per_month), align: 'right' },
          ]),
        );
      }),
    );

  const keys = program.command('api-keys').description('create, list and revoke API keys (needs a signed-in user)');

  clientCommand(keys, 'create', 'create an API key (the key is shown once)')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--scopes <list>', `comma-separated, \`jobs:*\` for every jobs scope (default: all): ${SCOPES.join(', ')}`, parseList)
    .option('--expires-at <iso>', 'expiry, ISO 8601 (default: never)')
    .action(
      clientAction(async (session, options: { name: string; scopes?: string[]; expiresAt?: string }) => {
        const scopes = expandScopes(options.scopes ?? [...SCOPES]);
        const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
        if (unknown.length) throw new UsageError(`--scopes: unknown ${unknown.join(', ')}`);
        const created = await session.client.apiKeys.create({
          name: options.name,
          scopes: scopes as Scope[],
          ...(options.expiresAt ? { expires_at: options.expiresAt } : {}),
        });
        if (session.json) {
          session.printJson(created);
          return;
        }
        session.out(renderFields([['id', created.id], ['name', created.name], ['scopes', created.scopes.join(' ')], ['key', created.key]]));
        session.note('Keep the key: it is not shown again. Use it with CATALYTIC_API_KEY or `catalytic login --api-key`.');
      }),
    );

  clientCommand(keys, 'list', 'list API keys (never their secrets)')
    .action(
      clientAction(async (session) => {
        const list = await session.client.apiKeys.list();
        if (session.json) {
          session.printJson({ data: list });
          return;
        }
        session.out(
          renderTable(list, [
            { header: 'ID', value: (k) => k.id },
            { header: 'NAME', value: (k) => k.name },
            { header: 'KEY', value: (k) => `ck_${k.prefix}_…` },
            { header: 'SCOPES', value: (k) => k.scopes.join(',') },
            { header: 'STATE', value: (k) => (k.revoked_at ? 'revoked' : k.expires_at && Date.parse(k.expires_at) < Date.now() ? 'expired' : 'active') },
            { header: 'LAST USED', value: (k) => formatTime(k.last_used_at) },
          ]),
        );
      }),
    );

  clientCommand(keys, 'revoke <id>', 'revoke an API key (it stops working at once)')
    .action(
      clientAction(async (session, id: string) => {
        await session.client.apiKeys.revoke(id);
        if (session.json) session.printJson({ id, revoked: true });
        else session.out(`Revoked API key ${id}`);
      }),
    );
}
