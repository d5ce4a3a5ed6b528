/**
 * Sessions: `POST /auth/login` (email and password → token pair; limited per client IP and locked
 * per account after consecutive failures),
 * `POST /auth/refresh` (spend a refresh token for a new pair), `POST /auth/logout` (revoke the
 * access token and its session) and `GET /auth/jwks` (the public keys that verify access tokens).
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { AppError, isAppError } from '../../shared/errors.ts';
import { requestMeta } from './request-meta.ts';
import { signIn } from './sign-in.ts';
import { problem, TOKEN_PAIR } from './schemas.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';

const LOGIN = z
  .object({
    // Only a length bound here: the answer to any wrong email is the same 401.
    email: z.string().trim().min(1).max(254),
    password: z.string().min(1).max(1024),
  })
  .openapi('Login');

const REFRESH = z.object({ refresh_token: z.string().min(1).max(256) }).openapi('Refresh');

const JWKS = z
  .object({
    keys: z.array(
      z.object({ kty: z.literal('RSA'), n: z.string(), e: z.string(), kid: z.string(), alg: z.literal('RS256'), use: z.literal('sig') }),
    ),
  })
  .openapi('Jwks');

export function authRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { runtime, identity } = deps;

  router.use('/auth/login', identity.rateLimits.perIp('login'));

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/auth/login',
    summary: 'Sign in with email and password',
    tags: ['Account'],
    auth: 'public',
    limitedByAddress: true,
    body: LOGIN,
    responses: {
      200: { description: 'A token pair', schema: TOKEN_PAIR },
      401: problem('The email or password is wrong'),
      403: problem('The tenant is suspended'),
      429: problem('Too many sign-in attempts from this address, or too many failed ones for this account'),
    },
    handler: async (ctx, { body }) => {
      ctx.set('Cache-Control', 'no-store');
      // Checked before the password, with the same answer whether or not the account exists.
      await identity.lockout.assertAllowed(body.email);
      try {
        ctx.body = await signIn(runtime.db, identity.sessions, body, requestMeta(ctx));
      } catch (err) {
        if (isAppError(err) && err.code === 'invalid_credentials') await identity.lockout.recordFailure(body.email);
        throw err;
      }
      await identity.lockout.recordSuccess(body.email);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/auth/refresh',
    summary: 'Spend a refresh token for a new token pair (reusing one revokes its session)',
    tags: ['Account'],
    auth: 'public',
    body: REFRESH,
    responses: {
      200: { description: 'A new token pair', schema: TOKEN_PAIR },
      401: problem('The refresh token is unknown, expired, revoked or already used'),
    },
    handler: async (ctx, { body }) => {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = await identity.sessions.refresh(body.refresh_token, requestMeta(ctx));
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/auth/logout',
    summary: 'Sign out: the access token and its session stop working at once',
    tags: ['Account'],
    auth: {},
    responses: { 204: { description: 'Signed out' } },
    handler: async (ctx, { principal }) => {
      if (principal.kind !== 'user') {
        throw new AppError('forbidden', 'Sign-out ends a session; revoke an API key with DELETE /api/api-keys/{id}');
      }
      await identity.sessions.end(principal, requestMeta(ctx));
      ctx.status = 204;
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/auth/jwks',
    summary: 'The public keys (JWKS) that verify access tokens',
    tags: ['Account'],
    auth: 'public',
    responses: { 200: { description: 'A JSON Web Key Set', schema: JWKS, contentType: 'application/jwk-set+json' } },
    handler: (ctx) => {
      ctx.set('Cache-Control', 'public, max-age=300');
      ctx.type = 'application/jwk-set+json';
      ctx.body = identity.keys.jwks;
    },
  });

  return router;
}
