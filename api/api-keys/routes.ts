/**
 * API keys for automation: `POST /api/api-keys` returns the key once; `GET /api/api-keys` lists
 * keys without secrets; `DELETE /api/api-keys/:id` revokes one at once. Keys are managed by signed
 * in users only (a key cannot mint keys), with at most the scopes of the user's role (a viewer
 * may make read-only keys). Owners and admins see and revoke every key of the tenant; others
 * their own.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { generateApiKey } from '../../shared/auth/api-key-format.ts';
import { type Principal, ROLE_SCOPES } from '../../shared/auth/principal.ts';
import { recordAudit } from '../../shared/audit.ts';
import { withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { DAY } from '../../shared/units.ts';
import { requestMeta } from '../auth/request-meta.ts';
import { API_KEY, problem, SCOPE, text } from '../auth/schemas.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';
import { countActiveKeys, insertApiKey, type KeyManager, listVisibleKeys, lockVisibleKey, revokeApiKey } from './store.ts';

/** Active keys a tenant may hold at once. */
export const MAX_ACTIVE_KEYS = 100;
/** Furthest expiry a key may be given. */
const MAX_LIFETIME_MS = 5 * 366 * DAY;

const CREATE = z
  .object({
    name: text(100),
    scopes: z
      .array(SCOPE)
      .min(1, { error: 'must name at least one scope' })
      .max(32)
      .refine((s) => new Set(s).size === s.length, { error: 'must not repeat a scope' })
      .openapi({ uniqueItems: true }),
    expires_at: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 date-time' })
      .refine((v) => Date.parse(v) > Date.now(), { error: 'must be in the future' })
      .refine((v) => Date.parse(v) < Date.now() + MAX_LIFETIME_MS, { error: 'must be within 5 years' })
      .nullish()
      .describe('When the key stops working: in the future and within 5 years; null or absent for never'),
  })
  .openapi('ApiKeyCreate');

const CREATED = API_KEY.extend({ key: z.string().describe('The secret key: shown only in this response') }).openapi('ApiKeyCreated');
const ID_PARAMS = z.object({ id: z.uuid({ error: 'must be a UUID' }) });

/** Key management needs a signed-in user; returns that principal. */
function signedInUser(principal: Principal): KeyManager {
  if (principal.kind !== 'user' || !principal.userId) {
    throw new AppError('forbidden', 'API keys are managed by signed-in users; an API key cannot manage keys');
  }
  return principal as KeyManager;
}

export function apiKeyRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { db } = deps.runtime;

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/api-keys',
    summary: 'Create an API key (the key is shown once)',
    tags: ['Account'],
    auth: {},
    body: CREATE,
    responses: {
      201: { description: 'The key, with its secret', schema: CREATED },
      409: problem(`The tenant already has ${MAX_ACTIVE_KEYS} active keys`),
    },
    handler: async (ctx, { body, principal: caller }) => {
      const principal = signedInUser(caller);
      const allowed = new Set(ROLE_SCOPES[principal.role]);
      const beyond = body.scopes.filter((scope) => !allowed.has(scope));
      if (beyond.length) {
        throw new AppError('insufficient_scope', `Your role cannot grant: ${beyond.join(', ')}`, { extra: { required_scopes: beyond } });
      }
      const generated = generateApiKey();
      const row = await withTenant(db, principal.tenantId, async (trx) => {
        if ((await countActiveKeys(trx, principal.tenantId)) >= MAX_ACTIVE_KEYS) {
          throw new AppError('conflict', `A tenant may hold ${MAX_ACTIVE_KEYS} active keys; revoke one first`);
        }
        const created = await insertApiKey(trx, principal, {
          name: body.name,
          prefix: generated.prefix,
          hash: generated.hash,
          scopes: body.scopes,
          expiresAt: body.expires_at ? new Date(body.expires_at) : null,
        });
        await recordAudit(trx, {
          tenantId: principal.tenantId,
          userId: principal.userId,
          apiKeyId: created.id as string,
          action: 'api_key.created',
          ...requestMeta(ctx),
          details: { name: body.name, prefix: generated.prefix, scopes: body.scopes },
        });
        return created;
      });
      ctx.status = 201;
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Location', `/api/api-keys/${String(row.id)}`);
      ctx.body = { ...row, key: generated.key };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/api-keys',
    summary: 'List API keys (never their secrets)',
    tags: ['Account'],
    auth: {},
    responses: { 200: { description: 'The keys, newest first', schema: z.object({ data: z.array(API_KEY) }) } },
    handler: async (ctx, { principal: caller }) => {
      const principal = signedInUser(caller);
      const data = await withTenant(db, principal.tenantId, (trx) => listVisibleKeys(trx, principal));
      ctx.body = { data };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'delete',
    path: '/api/api-keys/:id',
    summary: 'Revoke an API key (it stops working at once)',
    tags: ['Account'],
    auth: {},
    params: ID_PARAMS,
    responses: { 204: { description: 'Revoked (or already revoked)' } },
    handler: async (ctx, { params, principal: caller }) => {
      const principal = signedInUser(caller);
      await withTenant(db, principal.tenantId, async (trx) => {
        const key = await lockVisibleKey(trx, principal, params.id);
        if (!key) throw new AppError('not_found', 'No such API key');
        if (key.revoked_at) return;
        await revokeApiKey(trx, principal.tenantId, key.id);
        await recordAudit(trx, {
          tenantId: principal.tenantId,
          userId: principal.userId,
          apiKeyId: key.id,
          action: 'api_key.revoked',
          ...requestMeta(ctx),
          details: { prefix: key.prefix },
        });
      });
      // Committed: the key stops working in this process before the answer, and in every other
      // API process as soon as they hear of it.
      await deps.identity.credentials.invalidations.invalidate({ apiKeyId: params.id });
      ctx.status = 204;
    },
  });

  return router;
}
