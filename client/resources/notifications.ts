/** `client.notifications`: which notifications the user is mailed (`/api/me/notifications`). */
import type { NotificationPreferences, NotificationPreferencesChange } from '../api-types.ts';
import type { HttpClient } from '../http.ts';

export class NotificationsResource {
  constructor(private readonly http: HttpClient) {}

  /** The user's choices, with the defaults of their role for topics never set. */
  async get(): Promise<NotificationPreferences> {
    return (await this.http.request<NotificationPreferences>('GET', '/api/me/notifications')).body;
  }

  /** Turns topics on or off (only those named change); returns the choices now. */
  async set(changes: NotificationPreferencesChange): Promise<NotificationPreferences> {
    return (await this.http.request<NotificationPreferences>('PATCH', '/api/me/notifications', { body: changes })).body;
  }
}
