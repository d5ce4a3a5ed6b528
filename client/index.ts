/**
 * The Catalytic SDK: a typed client for the HTTP API (`import { CatalyticClient } from
 * 'catalytic/client'`).
 */
export * from './errors.ts';
export * from './retry.ts';
export * from './sse.ts';
export * from './http.ts';
export * from './credentials-store.ts';
export * from './types.ts';
export * from './api-types.ts';
export * from './job-watch.ts';
export * from './client.ts';
export * from './resources/auth.ts';
export * from './resources/batches.ts';
export * from './resources/account.ts';
export * from './resources/jobs.ts';
export * from './resources/lattices.ts';
export * from './resources/webhooks.ts';
export * from './resources/team.ts';
export * from './resources/notifications.ts';
