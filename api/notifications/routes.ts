/**
 * `GET /api/me/notifications` and `PATCH /api/me/notifications`: which notifications the caller
 * is mailed (a plan request decided, a webhook endpoint disabled, a quota at 80% or 100%). Topics
 * the user never set follow the defaults of their role: on for owners, off for the others. An API
 * key reads and changes the choices of the user who created it.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import type { Principal } from '../../shared/auth/principal.ts';
import { withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { effectiveSettings } from '../../shared/notifications/topics.ts';
import { NOTIFICATION_PREFERENCES, NOTIFICATION_PREFERENCES_CHANGE, type NotificationPreferences } from '../../shared/wire/notifications.ts';
import { problem } from '../auth/schemas.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';
import { mergeSettings, readSettings, type SettingsRow } from './store.ts';

function userOf(principal: Principal): string {
  if (!principal.userId) throw new AppError('forbidden', 'Notifications belong to a user: this API key has none');
  return principal.userId;
}

function view(row: SettingsRow | undefined): NotificationPreferences {
  if (!row) throw new AppError('invalid_token', 'The user no longer exists');
  return { email: row.email, settings: effectiveSettings(row.role, row.notification_settings), defaults: effectiveSettings(row.role, {}) };
}

export function notificationRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { db } = deps.runtime;

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/me/notifications',
    summary: 'Which notifications you are mailed',
    tags: ['Account'],
    auth: {},
    responses: {
      200: { description: 'Your choices, with the defaults for the rest', schema: NOTIFICATION_PREFERENCES },
      403: problem('An API key that belongs to no user'),
    },
    handler: async (ctx, { principal }) => {
      const userId = userOf(principal);
      ctx.body = view(await withTenant(db, principal.tenantId, (trx) => readSettings(trx, principal.tenantId, userId)));
    },
  });

  defineRoute(router, registry, deps, {
    method: 'patch',
    path: '/api/me/notifications',
    summary: 'Turn notifications on or off, by topic',
    tags: ['Account'],
    auth: {},
    body: NOTIFICATION_PREFERENCES_CHANGE,
    responses: {
      200: { description: 'Your choices now', schema: NOTIFICATION_PREFERENCES },
      403: problem('An API key that belongs to no user'),
    },
    handler: async (ctx, { body, principal }) => {
      const userId = userOf(principal);
      ctx.body = view(await withTenant(db, principal.tenantId, (trx) => mergeSettings(trx, principal.tenantId, userId, body)));
    },
  });

  return router;
}
