/** The worker role's services, in start order. */
import type { Runtime } from '../shared/runtime.ts';
import type { Service } from '../shared/service.ts';
import { WebhookSenderService } from './webhook-sender.ts';

export function workerServices(runtime: Runtime): Service[] {
  return [new WebhookSenderService(runtime)];
}
