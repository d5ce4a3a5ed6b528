/** Who is calling: roles, scopes and the authenticated principal carried on each request. */

export const ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const SCOPES = [
  'jobs:read',
  'jobs:write',
  'lattices:read',
  'lattices:write',
  'webhooks:read',
  'webhooks:write',
  'usage:read',
] as const;
export type Scope = (typeof SCOPES)[number];

/** What each role may do when signed in with a user token (API keys carry their own scopes). */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  owner: SCOPES,
  admin: SCOPES,
  member: SCOPES,
  viewer: ['jobs:read', 'lattices:read', 'webhooks:read', 'usage:read'],
};

/**
 * What an API key may do: never more than a member, never more than its creator's current role,
 * and only its own scopes within that. A key whose creator is gone acts as nobody (undefined).
 */
export function apiKeyRights(keyScopes: readonly Scope[], creatorRole: Role | null): { role: Role; scopes: Set<Scope> } | undefined {
  if (!creatorRole) return undefined;
  const role: Role = creatorRole === 'viewer' ? 'viewer' : 'member';
  const allowed = new Set(ROLE_SCOPES[creatorRole]);
  return { role, scopes: new Set(keyScopes.filter((scope) => allowed.has(scope))) };
}

export interface Principal {
  kind: 'user' | 'api_key';
  tenantId: string;
  /** The user (for an API key: the user who created it, if still present). */
  userId: string | null;
  apiKeyId: string | null;
  role: Role;
  scopes: ReadonlySet<Scope>;
  planCode: string;
  /** The access token's `jti` and expiry (seconds), for logout. */
  tokenId?: string;
  tokenExpiresAt?: number;
  /** The sign-in session (refresh-token family) an access token belongs to. */
  sessionId?: string;
}
