/**
 * `catalytic subscription [show] | change <plan> | cancel-request`: the tenant's plan and its
 * plan request. A free plan or a downgrade applies at once; an upgrade to a paid plan waits for
 * an operator's approval (`catalytic admin plan-requests approve`).
 */
import type { Command } from 'commander';
import type { PlanCode, PlanRequest, Subscription } from '../../client/index.ts';
import { PLAN_CODES } from '../../shared/plans.ts';
import { UsageError } from './cli-errors.ts';
import { formatTime, renderFields } from './format.ts';
import { clientAction, clientCommand, type Session } from './session.ts';

/** One line about a request, e.g. `starter (pending since 2025-01-31 10:00:00, request 4f…)`. */
export function describePlanRequest(request: PlanRequest): string {
  const when = request.status === 'pending' ? `since ${formatTime(request.created_at)}` : formatTime(request.decided_at);
  return `${request.to_plan} (${request.status} ${when}${request.reason ? `: ${request.reason}` : ''}; request ${request.id})`;
}

function showSubscription(session: Session, subscription: Subscription): void {
  if (session.json) {
    session.printJson(subscription);
    return;
  }
  const fields: Array<[string, string]> = [['plan', subscription.plan_code]];
  if (subscription.pending_request) fields.push(['requested', describePlanRequest(subscription.pending_request)]);
  const last = subscription.recent_requests.find((r) => r.status !== 'pending');
  if (last) fields.push(['last request', describePlanRequest(last)]);
  session.out(renderFields(fields));
}

export function registerSubscriptionCommands(program: Command): void {
  const subscription = program.command('subscription').description("the tenant's plan: show it, change it, withdraw a pending upgrade");

  clientCommand(subscription, 'show', 'the current plan and any pending plan request')
    .action(clientAction(async (session) => showSubscription(session, await session.client.subscription.get())));

  clientCommand(subscription, 'change <plan>', `move to another plan (owner only): ${PLAN_CODES.join(', ')}; an upgrade to a paid plan waits for approval`)
    .action(
      clientAction(async (session, plan: string) => {
        if (!(PLAN_CODES as readonly string[]).includes(plan)) throw new UsageError(`<plan>: expected one of ${PLAN_CODES.join(', ')}`);
        const result = await session.client.subscription.change(plan as PlanCode);
        if (session.json) {
          session.printJson(result);
          return;
        }
        if (result.plan_code === plan) session.out(`Plan: ${plan}`);
        else if (result.pending_request?.to_plan === plan) {
          session.out(`Requested ${plan}: pending approval by an operator (request ${result.pending_request.id}); the plan stays ${result.plan_code} until then`);
        } else showSubscription(session, result);
      }),
    );

  clientCommand(subscription, 'cancel-request', 'withdraw the pending plan request (owner only)')
    .action(
      clientAction(async (session) => {
        const cancelled = await session.client.subscription.cancelRequest();
        if (session.json) session.printJson(cancelled);
        else session.out(`Withdrew the request for ${cancelled.to_plan} (request ${cancelled.id})`);
      }),
    );
}
