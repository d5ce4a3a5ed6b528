/** Sign-up and sessions: register, login, refresh, logout. */
import type { Registration, RegistrationInput, TokenPair } from '../api-types.ts';
import { type HttpClient, sessionTokensFrom } from '../http.ts';

export class AuthResource {
  constructor(private readonly http: HttpClient) {}

  /**
   * Creates a tenant with its owner and signs the owner in: the client uses the new session
   * from now on (and reports it to `onTokens`).
   */
  async register(input: RegistrationInput, options: { signal?: AbortSignal } = {}): Promise<Registration> {
    const { body } = await this.http.request<Registration>('POST', '/api/tenants/register', {
      body: input,
      auth: false,
      signal: options.signal,
    });
    await this.http.setTokens(sessionTokensFrom(body.tokens));
    return body;
  }

  /** Signs in with email and password; the client uses the session from now on. */
  async login(email: string, password: string, options: { signal?: AbortSignal } = {}): Promise<TokenPair> {
    const { body } = await this.http.request<TokenPair>('POST', '/auth/login', {
      body: { email, password },
      auth: false,
      signal: options.signal,
    });
    await this.http.setTokens(sessionTokensFrom(body));
    return body;
  }

  /**
   * Spends the refresh token for a new pair now (the client also does this by itself when the
   * access token expires). Resolves false when the API refuses the refresh token.
   */
  refresh(): Promise<boolean> {
    return this.http.refreshSession();
  }

  /** Ends the session on the server (access and refresh tokens stop working) and forgets it. */
  async logout(options: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.http.request('POST', '/auth/logout', { signal: options.signal });
    } finally {
      await this.http.setTokens(undefined);
    }
  }

  /** The public keys that verify access tokens. */
  async jwks(): Promise<{ keys: Array<Record<string, string>> }> {
    return (await this.http.request<{ keys: Array<Record<string, string>> }>('GET', '/auth/jwks', { auth: false })).body;
  }
}
