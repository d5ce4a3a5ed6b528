/**
 * The team: `GET /api/members` (everyone in the tenant), `PATCH /api/members/:id` (a role) and
 * `DELETE /api/members/:id` (owners and admins); invitations — `POST|GET /api/invitations`,
 * `DELETE /api/invitations/:id` (owners and admins) — and `POST /auth/invitations/accept` (public:
 * the mailed link's token makes the account).
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { INVITATION, INVITATION_ACCEPT, INVITATION_CREATE, MEMBER, MEMBER_ROLE_CHANGE } from '../../shared/wire/account.ts';
import { requestMeta } from '../auth/request-meta.ts';
import { problem, TOKEN_PAIR } from '../auth/schemas.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';

const MANAGERS = { roles: ['owner', 'admin'] } as const;
const ID_PARAMS = z.object({ id: z.uuid({ error: 'must be a UUID' }) });
const ACCEPTED = z.object({ user: MEMBER, tokens: TOKEN_PAIR }).openapi('InvitationAccepted');

export function memberRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { team } = deps;

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/members',
    summary: "The tenant's members",
    tags: ['Team'],
    auth: {},
    responses: { 200: { description: 'Members, oldest first', schema: z.object({ data: z.array(MEMBER) }) } },
    handler: async (ctx, { principal }) => {
      ctx.body = { data: await team.list(principal) };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'patch',
    path: '/api/members/:id',
    summary: "Change a member's role (owners and admins; only owners make or change owners)",
    tags: ['Team'],
    auth: MANAGERS,
    params: ID_PARAMS,
    body: MEMBER_ROLE_CHANGE,
    responses: {
      200: { description: 'The member', schema: MEMBER },
      409: problem('The member is the last owner'),
    },
    handler: async (ctx, { params, body, principal }) => {
      ctx.body = await team.changeRole(principal, params.id, body.role, requestMeta(ctx));
    },
  });

  defineRoute(router, registry, deps, {
    method: 'delete',
    path: '/api/members/:id',
    summary: 'Remove a member: their sessions and API keys stop at once (owners and admins)',
    tags: ['Team'],
    auth: MANAGERS,
    params: ID_PARAMS,
    responses: {
      204: { description: 'Removed' },
      409: problem('The member is the last owner'),
    },
    handler: async (ctx, { params, principal }) => {
      await team.remove(principal, params.id, requestMeta(ctx));
      ctx.status = 204;
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/api/invitations',
    summary: 'Invite someone by email with a role (a single-use link is mailed; owners and admins)',
    tags: ['Team'],
    auth: MANAGERS,
    body: INVITATION_CREATE,
    responses: {
      201: { description: 'The pending invitation', schema: INVITATION },
      402: problem("The plan's seats (members and pending invitations) are all taken"),
      409: problem('The address is already a member'),
    },
    handler: async (ctx, { body, principal }) => {
      await deps.verification.assertVerified(principal, 'invite members');
      const invitation = await team.invite(principal, body.email, body.role, requestMeta(ctx));
      ctx.status = 201;
      ctx.set('Location', `/api/invitations/${invitation.id}`);
      ctx.body = invitation;
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/invitations',
    summary: 'Pending invitations (owners and admins)',
    tags: ['Team'],
    auth: MANAGERS,
    responses: { 200: { description: 'Pending invitations, oldest first', schema: z.object({ data: z.array(INVITATION) }) } },
    handler: async (ctx, { principal }) => {
      ctx.body = { data: await team.invitations(principal) };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'delete',
    path: '/api/invitations/:id',
    summary: 'Revoke a pending invitation: its link stops working (owners and admins)',
    tags: ['Team'],
    auth: MANAGERS,
    params: ID_PARAMS,
    responses: { 204: { description: 'Revoked' } },
    handler: async (ctx, { params, principal }) => {
      await team.revokeInvitation(principal, params.id, requestMeta(ctx));
      ctx.status = 204;
    },
  });

  defineRoute(router, registry, deps, {
    method: 'post',
    path: '/auth/invitations/accept',
    summary: 'Accept an invitation with its mailed token: makes the account and signs it in',
    tags: ['Team'],
    auth: 'public',
    body: INVITATION_ACCEPT,
    responses: {
      201: { description: 'The new member, signed in', schema: ACCEPTED },
      400: problem('The link is not valid, was used, revoked or has expired (`link_invalid`), or the password is too weak'),
      409: problem('The address already has an account'),
    },
    handler: async (ctx, { body }) => {
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 201;
      ctx.body = await team.accept(body, requestMeta(ctx));
    },
  });

  return router;
}
