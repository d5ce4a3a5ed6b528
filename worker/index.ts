/** The worker role's services, in start order. */
import type { Runtime } from '../shared/runtime.ts';
import type { Service } from '../shared/service.ts';
import { createWebhookDispatcher } from '../shared/webhooks/dispatcher.ts';
import { PipelineWorker } from './pipeline-worker.ts';
import { WebhookSenderService } from './webhook-sender.ts';

export function workerServices(runtime: Runtime): Service[] {
  // The job pipeline closes first (services close in reverse), while deliveries can still be sent.
  return [new WebhookSenderService(runtime), new PipelineWorker(runtime, { dispatcher: createWebhookDispatcher(runtime) })];
}
