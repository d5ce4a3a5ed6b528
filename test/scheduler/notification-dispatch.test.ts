/**
 * The notification outbox under concurrency, on real PostgreSQL: an event recorded many times is
 * one row; dispatch runs racing over the same rows mail each row's recipients once between them;
 * quota checks racing over one tenant record each threshold once.
 */
import { describe, expect, it } from 'vitest';
import { dispatchNotifications } from '../../scheduler/notification-dispatch.ts';
import { watchQuotas } from '../../scheduler/quota-watch.ts';
import type { MailOutbox } from '../../shared/mail/mail-queue.ts';
import { recordNotification } from '../../shared/notifications/record.ts';
import { usageDay } from '../../shared/usage.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment({ DATABASE_POOL_MAX: '8' });

/** An outbox that records what it is asked to queue (the real one would drop a repeated job id). */
function recordingOutbox(): { outbox: MailOutbox; sent: Array<{ to: string; jobId: string | undefined }> } {
  const sent: Array<{ to: string; jobId: string | undefined }> = [];
  const outbox = {
    send: (_template: string, to: string, _params: unknown, options: { jobId?: string } = {}) => {
      sent.push({ to, jobId: options.jobId });
      return new Promise<void>((resolve) => setTimeout(resolve, 5));
    },
  } as unknown as MailOutbox;
  return { outbox, sent };
}

describe('the notification outbox', () => {
  it('keeps one row per event, and racing dispatch runs mail each recipient once', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'free' });
    const admin = await env.db('users')
      .insert({ tenant_id: tenant.tenantId, email: `admin-${tenant.tenantId}@example.test`, first_name: 'Ad', last_name: 'Min', password_hash: '!', role: 'admin', notification_settings: { webhooks: true } })
      .returning('email');
    const events = Array.from({ length: 30 }, (_, i) => ({
      tenantId: tenant.tenantId,
      kind: 'webhook_disabled' as const,
      key: `webhook:test-${i}`,
      params: { url: `https://example.test/${i}`, webhook_id: `w${i}`, reason: 'Every attempt failed for 3 days' },
    }));
    const inserted = await Promise.all([...events, ...events, ...events].map((e) => recordNotification(env.db, e)));
    expect(inserted.filter(Boolean)).toHaveLength(30);

    const { outbox, sent } = recordingOutbox();
    let claimed = 0;
    for (;;) {
      const runs = await Promise.all(Array.from({ length: 4 }, () => dispatchNotifications(env.db, outbox, { limit: 4 })));
      const round = runs.reduce((n, r) => n + r.notifications, 0);
      if (round === 0) break;
      claimed += round;
    }
    expect(claimed).toBe(30);
    // The owner by default, the admin by choice: 60 messages, each once.
    expect(sent).toHaveLength(60);
    expect(new Set(sent.map((s) => s.jobId)).size).toBe(60);
    expect(new Set(sent.map((s) => s.to))).toEqual(new Set([(await env.db('users').where({ id: tenant.userId }).first('email')).email, admin[0].email]));
    expect(await env.db('notifications').where({ tenant_id: tenant.tenantId }).whereNull('dispatched_at').count('* as n')).toEqual([{ n: 0 }]);
  });

  it('racing quota checks record each threshold once', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'free' });
    await env.db('usage_counters').insert({ tenant_id: tenant.tenantId, day: usageDay(), metric: 'api_calls', value: 850 });
    await Promise.all(Array.from({ length: 6 }, () => watchQuotas(env.db)));
    await env.db('usage_counters').where({ tenant_id: tenant.tenantId, metric: 'api_calls' }).update({ value: 1000 });
    const second = await Promise.all(Array.from({ length: 6 }, () => watchQuotas(env.db)));
    expect(second.reduce((n, r) => n + r.recorded, 0)).toBe(1);
    const month = usageDay().slice(0, 7);
    expect(await env.db('notifications').where({ tenant_id: tenant.tenantId }).orderBy('key').select('key', 'params')).toEqual([
      { key: `quota:api_calls:${month}:100`, params: expect.objectContaining({ percent: '100', used: '1,000', limit: '1,000', quota: 'API calls this month' }) },
      { key: `quota:api_calls:${month}:80`, params: expect.objectContaining({ percent: '80', used: '850' }) },
    ]);
  });
});
