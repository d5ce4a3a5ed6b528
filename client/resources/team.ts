/** The team (members, invitations), passwords and email addresses, and the audit log. */
import type { AuditPage, AuditQuery, Invitation, InvitationAcceptInput, Member, Role, TokenPair } from '../api-types.ts';
import { type HttpClient, sessionTokensFrom } from '../http.ts';

export class MembersResource {
  constructor(private readonly http: HttpClient) {}

  /** The tenant's members, oldest first. */
  async list(): Promise<Member[]> {
    return (await this.http.request<{ data: Member[] }>('GET', '/api/members')).body.data;
  }

  /** Changes a member's role (owners and admins; only owners make or change owners; never the last owner). */
  async setRole(id: string, role: Role): Promise<Member> {
    return (await this.http.request<Member>('PATCH', `/api/members/${encodeURIComponent(id)}`, { body: { role } })).body;
  }

  /** Removes a member: their sessions and API keys stop at once (never the last owner). */
  async remove(id: string): Promise<void> {
    await this.http.request('DELETE', `/api/members/${encodeURIComponent(id)}`);
  }
}

export class InvitationsResource {
  constructor(private readonly http: HttpClient) {}

  /** Invites an address with a role: a single-use link is mailed to it (owners and admins, with a confirmed address). */
  async create(email: string, role: Role): Promise<Invitation> {
    return (await this.http.request<Invitation>('POST', '/api/invitations', { body: { email, role } })).body;
  }

  /** Pending invitations. */
  async list(): Promise<Invitation[]> {
    return (await this.http.request<{ data: Invitation[] }>('GET', '/api/invitations')).body.data;
  }

  /** Revokes a pending invitation: its link stops working. */
  async revoke(id: string): Promise<void> {
    await this.http.request('DELETE', `/api/invitations/${encodeURIComponent(id)}`);
  }

  /** Accepts an invitation with the token from its link (no credentials needed): the new account, signed in. */
  async accept(input: InvitationAcceptInput): Promise<{ user: Member; tokens: TokenPair }> {
    return (await this.http.request<{ user: Member; tokens: TokenPair }>('POST', '/auth/invitations/accept', { body: input, auth: false })).body;
  }
}

export class PasswordResource {
  constructor(private readonly http: HttpClient) {}

  /** Asks for a reset link by mail; the answer is the same whether or not the address has an account. */
  async requestReset(email: string): Promise<{ status: 'accepted'; detail: string }> {
    return (await this.http.request<{ status: 'accepted'; detail: string }>('POST', '/auth/password-reset', { body: { email }, auth: false })).body;
  }

  /** Sets a new password with the token from a reset link (once); every session of the user ends. */
  async confirmReset(token: string, password: string): Promise<void> {
    await this.http.request('POST', '/auth/password-reset/confirm', { body: { token, password }, auth: false });
  }

  /**
   * Changes the signed-in user's password. Every earlier session ends, this client's included: it
   * switches to the new token pair (saved like a refresh), which is also returned.
   */
  async change(currentPassword: string, newPassword: string): Promise<TokenPair> {
    const pair = (await this.http.request<TokenPair>('POST', '/api/me/password', { body: { current_password: currentPassword, new_password: newPassword } })).body;
    await this.http.setTokens(sessionTokensFrom(pair));
    return pair;
  }
}

export class EmailResource {
  constructor(private readonly http: HttpClient) {}

  /** Confirms an address with the token from its link (no credentials needed). */
  async verify(token: string): Promise<void> {
    await this.http.request('POST', '/auth/verify-email', { body: { token }, auth: false });
  }

  /** Mails a new link that confirms the signed-in user's address. */
  async resendVerification(): Promise<{ status: 'sent' | 'already_verified' }> {
    return (await this.http.request<{ status: 'sent' | 'already_verified' }>('POST', '/api/me/email/verify')).body;
  }

  /** Changes the address: a link goes to the new one, which replaces the old once followed. */
  async change(email: string, currentPassword: string): Promise<void> {
    await this.http.request('POST', '/api/me/email', { body: { email, current_password: currentPassword } });
  }
}

export class AuditResource {
  constructor(private readonly http: HttpClient) {}

  /** One page of the audit log, newest first (owners and admins). */
  async list(query: AuditQuery = {}): Promise<AuditPage> {
    return (await this.http.request<AuditPage>('GET', '/api/audit', { query: { ...query } })).body;
  }

  /** Every entry matching the filters, newest first, page after page. */
  async *all(query: Omit<AuditQuery, 'cursor'> = {}): AsyncGenerator<AuditPage['data'][number]> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...query, ...(cursor ? { cursor } : {}) });
      yield* page.data;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }
}
