/**
 * Checks an endpoint URL when it is created or changed, for early feedback: it must be http(s)
 * without credentials, and when the host resolves now, to public addresses only (unless private
 * networks are allowed). A host that does not resolve yet is accepted; every delivery checks again.
 */
import type { Config } from '../../shared/config.ts';
import { AppError } from '../../shared/errors.ts';
import { parseWebhookUrl, resolveDeliveryTarget, WebhookUrlRefusedError } from '../../shared/webhooks/address-guard.ts';

/** DNS at request time is a courtesy; a slow resolver must not hold the request. */
const RESOLVE_BUDGET_MS = 2000;

/** What a developer pointing an endpoint at a receiver on their own machine needs to know. */
const PRIVATE_HINT =
  'To deliver to this machine or a private network (a local receiver in development), run the API and workers with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true';

function invalidUrl(message: string): AppError {
  return new AppError('validation_failed', `body.url: ${message}`, { extra: { errors: [{ path: 'body.url', message }] } });
}

export async function checkEndpointUrl(raw: string, config: Pick<Config, 'WEBHOOK_ALLOW_PRIVATE_NETWORKS'>): Promise<string> {
  let url: URL;
  try {
    url = parseWebhookUrl(raw);
  } catch (err) {
    throw invalidUrl((err as Error).message);
  }
  if (config.WEBHOOK_ALLOW_PRIVATE_NETWORKS) return url.toString();
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), RESOLVE_BUDGET_MS);
  });
  try {
    await Promise.race([resolveDeliveryTarget(url.toString(), { allowPrivate: false }), budget]);
  } catch (err) {
    if (err instanceof WebhookUrlRefusedError && err.kind === 'forbidden_address') throw invalidUrl(`${err.message}. ${PRIVATE_HINT}`);
    if (err instanceof WebhookUrlRefusedError && err.kind !== 'unresolvable') throw invalidUrl(err.message);
    if (!(err instanceof WebhookUrlRefusedError)) throw err;
  } finally {
    clearTimeout(timer);
  }
  return url.toString();
}
