/** The worker role's services, in start order. */
import type { Runtime } from '../shared/runtime.ts';
import type { Service } from '../shared/service.ts';

export function workerServices(_runtime: Runtime): Service[] {
  return [];
}
