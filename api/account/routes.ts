/**
 * Passwords: `POST /auth/password-reset` (a link by mail; the same answer for any address),
 * `POST /auth/password-reset/confirm` (spend the link: new password, every session ends) and
 * `POST /api/me/password` (change it, signed in, with the current one). Email addresses:
 * `POST /auth/verify-email` (spend a mailed link), `POST /api/me/email/verify` (a new link) and
 * `POST /api/me/email` (change the address: it moves once the new one's link is spent).
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { EMAIL_CHANGE, EMAIL_CHECK_SENT, PASSWORD_CHANGE, PASSWORD_RESET_ACCEPTED, PASSWORD_RESET_CONFIRM, PASSWORD_RESET_REQUEST, VERIFY_EMAIL } from '../../shared/wire/account.ts';
import { requestMeta } from '../auth/request-meta.ts';
import { problem, TOKEN_PAIR } from '../auth/schemas.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';

export const RESET_ACCEPTED_DETAIL = 'If an account has this email address, a link to reset its password is on its way';

export function accountRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { passwords, verification } = deps;

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/auth/password-reset',
    summary: 'Ask for a password reset link by mail (the same answer whether or not the address has an account)',
    tags: ['Account'],
    auth: 'public',
    body: PASSWORD_RESET_REQUEST,
    responses: {
      200: { description: 'Accepted: a mail goes out if the address has an account', schema: PASSWORD_RESET_ACCEPTED },
      429: problem('Too many requests from this client address, or for this email address'),
    },
    handler: async (ctx, { body }) => {
      ctx.set('Cache-Control', 'no-store');
      await passwords.requestReset(body.email, requestMeta(ctx));
      ctx.status = 200;
      ctx.body = { status: 'accepted', detail: RESET_ACCEPTED_DETAIL };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/auth/password-reset/confirm',
    summary: 'Set a new password with a reset link (it works once; every session of the user ends)',
    tags: ['Account'],
    auth: 'public',
    body: PASSWORD_RESET_CONFIRM,
    responses: {
      204: { description: 'The password is set; sign in with it' },
      400: problem('The link is not valid, was used or has expired (`link_invalid`), or the password is too weak'),
    },
    handler: async (ctx, { body }) => {
      ctx.set('Cache-Control', 'no-store');
      await passwords.confirmReset(body.token, body.password, requestMeta(ctx));
      ctx.status = 204;
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/me/password',
    summary: 'Change your password (the current one is required; every other session ends)',
    tags: ['Account'],
    auth: {},
    body: PASSWORD_CHANGE,
    responses: {
      200: { description: 'A new token pair for this client (the previous tokens stop working)', schema: TOKEN_PAIR },
      403: problem('The current password is wrong, or the caller is an API key'),
    },
    handler: async (ctx, { body, principal }) => {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = await passwords.change(principal, body.current_password, body.new_password, requestMeta(ctx));
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/auth/verify-email',
    summary: 'Confirm an email address with its mailed link (for an address change: the address moves now)',
    tags: ['Account'],
    auth: 'public',
    body: VERIFY_EMAIL,
    responses: {
      204: { description: 'Confirmed' },
      400: problem('The link is not valid, was used or has expired (`link_invalid`)'),
      409: problem('Another account has taken the address meanwhile'),
    },
    handler: async (ctx, { body }) => {
      await verification.confirm(body.token, requestMeta(ctx));
      ctx.status = 204;
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/me/email/verify',
    summary: 'Mail a new link that confirms your address (5 an hour)',
    tags: ['Account'],
    auth: {},
    responses: { 200: { description: 'Sent, or nothing to do', schema: EMAIL_CHECK_SENT } },
    handler: async (ctx, { principal }) => {
      const sent = await verification.resend(principal, requestMeta(ctx));
      ctx.status = 200;
      ctx.body = { status: sent ? 'sent' : 'already_verified' };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/me/email',
    summary: 'Change your email address: a link goes to the new one, which replaces the old once confirmed',
    tags: ['Account'],
    auth: {},
    body: EMAIL_CHANGE,
    responses: {
      200: { description: 'A link went to the new address', schema: EMAIL_CHECK_SENT },
      403: problem('The current password is wrong, or the caller is an API key'),
    },
    handler: async (ctx, { body, principal }) => {
      await verification.change(principal, body.email, body.current_password, requestMeta(ctx));
      ctx.status = 200;
      ctx.body = { status: 'sent' };
    },
  });

  return router;
}
