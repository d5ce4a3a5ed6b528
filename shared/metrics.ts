/**
 * The process's Prometheus registry. Every role registers its series here; label sets stay
 * bounded (plan, type, outcome — never tenant or job ids).
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'catalytic_' });
