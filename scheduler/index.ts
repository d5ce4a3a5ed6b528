/** The scheduler role's services, in start order. */
import type { Runtime } from '../shared/runtime.ts';
import type { Service } from '../shared/service.ts';
import { MailSender } from './mail-sender.ts';
import { SchedulerService } from './scheduler-service.ts';

export function schedulerServices(runtime: Runtime): Service[] {
  return [new SchedulerService(runtime), new MailSender(runtime)];
}
