/**
 * The `operationId` of every route, by `METHOD path`: generated clients name their methods after
 * these, so they are chosen once here and never derived from paths. A route missing from this list
 * fails at start-up (see `operationIdOf`).
 */
export const OPERATION_IDS: Readonly<Record<string, string>> = {
  'GET /': 'getServiceIndex',
  'GET /live': 'getLiveness',
  'GET /ready': 'getReadiness',
  'GET /health': 'getHealth',
  'GET /metrics': 'getMetrics',
  'GET /openapi.json': 'getOpenApiDocument',
  'GET /docs': 'getApiDocs',
  'GET /problems/:code': 'getProblemType',
  'POST /api/tenants/register': 'registerTenant',
  'POST /auth/login': 'login',
  'POST /auth/refresh': 'refreshSession',
  'POST /auth/logout': 'logout',
  'GET /auth/jwks': 'getSigningKeys',
  'GET /api/me': 'getMe',
  'POST /auth/password-reset': 'requestPasswordReset',
  'POST /auth/password-reset/confirm': 'confirmPasswordReset',
  'POST /api/me/password': 'changePassword',
  'GET /account/reset-password': 'getPasswordResetPage',
  'GET /account/account.js': 'getAccountPagesScript',
  'GET /api/api-keys': 'listApiKeys',
  'POST /api/api-keys': 'createApiKey',
  'DELETE /api/api-keys/:id': 'revokeApiKey',
  'GET /api/plans': 'listPlans',
  'GET /api/subscription': 'getSubscription',
  'POST /api/subscription': 'changePlan',
  'DELETE /api/subscription/request': 'cancelPlanRequest',
  'GET /admin/api/plan-requests': 'listPlanRequests',
  'GET /admin/api/plan-requests/:id': 'getPlanRequest',
  'POST /admin/api/plan-requests/:id/approve': 'approvePlanRequest',
  'POST /admin/api/plan-requests/:id/reject': 'rejectPlanRequest',
  'GET /api/usage': 'getUsage',
  'GET /api/lattices': 'listLattices',
  'POST /api/lattices': 'createLattice',
  'GET /api/lattices/:id': 'getLattice',
  'PATCH /api/lattices/:id': 'updateLattice',
  'DELETE /api/lattices/:id': 'deleteLattice',
  'POST /api/lattices/path': 'findPath',
  'GET /api/jobs': 'listJobs',
  'POST /api/jobs': 'submitJob',
  'GET /api/jobs/:id': 'getJob',
  'DELETE /api/jobs/:id': 'cancelJob',
  'GET /api/jobs/:id/result': 'getJobResult',
  'GET /api/jobs/:id/events': 'streamJobEvents',
  'GET /api/webhooks': 'listWebhooks',
  'POST /api/webhooks': 'createWebhook',
  'GET /api/webhooks/:id': 'getWebhook',
  'PATCH /api/webhooks/:id': 'updateWebhook',
  'DELETE /api/webhooks/:id': 'deleteWebhook',
  'POST /api/webhooks/:id/rotate-secret': 'rotateWebhookSecret',
  'POST /api/webhooks/:id/test': 'testWebhook',
  'GET /api/webhooks/:id/deliveries': 'listWebhookDeliveries',
  'GET /api/webhooks/:id/deliveries/:did': 'getWebhookDelivery',
  'POST /api/webhooks/:id/deliveries/:did/redeliver': 'redeliverWebhookDelivery',
};

/** The operationId of a route; a route without one is a programming error caught at start-up. */
export function operationIdOf(method: string, path: string): string {
  const id = OPERATION_IDS[`${method.toUpperCase()} ${path}`];
  if (!id) throw new Error(`No operationId for ${method.toUpperCase()} ${path}: add it to api/openapi/operation-ids.ts`);
  return id;
}
