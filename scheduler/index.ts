/** The scheduler role's services, in start order. */
import type { Runtime } from '../shared/runtime.ts';
import type { Service } from '../shared/service.ts';

export function schedulerServices(_runtime: Runtime): Service[] {
  return [];
}
