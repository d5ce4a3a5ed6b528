/**
 * Outgoing mail end to end over real Redis and a real SMTP server: a message queued by the API's
 * outbox is rendered from its templates (plain text and HTML, values escaped in the HTML, links on
 * PUBLIC_URL) and sent by the scheduler's mail sender; a transient refusal (421) is retried until
 * the message goes through, a permanent one (550) is not; the development transport writes the
 * message and its links to the log; production refuses that transport.
 */
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailSender } from '../../scheduler/mail-sender.ts';
import { parseConfig } from '../../shared/config.ts';
import { MAIL_QUEUE, MailOutbox } from '../../shared/mail/mail-queue.ts';
import { createMailTransport } from '../../shared/mail/transport.ts';
import { renderMail } from '../../shared/mail/templates.ts';
import { startSmtpReceiver, type SmtpReceiver } from '../harness/smtp-receiver.ts';
import { useTestEnvironment } from '../support/context.ts';

const env = useTestEnvironment({ MAIL_RETRY_BASE_MS: '20', MAIL_MAX_ATTEMPTS: '4', PUBLIC_URL: 'https://catalytic.example' });
let smtp: SmtpReceiver;
let outbox: MailOutbox;
let sender: MailSender;
let queue: Queue;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  const runtime = env.runtime({ SMTP_URL: smtp.url, MAIL_FROM: 'Catalytic <mail@catalytic.example>' });
  outbox = new MailOutbox(runtime.config, runtime.redis, runtime.logger);
  sender = new MailSender(runtime);
  await sender.start();
  queue = new Queue(MAIL_QUEUE, { connection: env.redis, prefix: env.redisPrefix });
});

afterAll(async () => {
  await queue?.close();
  await outbox?.close();
  await sender?.close();
  await smtp?.close();
});

async function queueEmpty(): Promise<void> {
  for (;;) {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
    if (Object.values(counts).every((n) => n === 0)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('mail', () => {
  it('sends a queued message as plain text and HTML, with its link on the public URL', async () => {
    await outbox.send('password-reset', 'ada@example.test', { first_name: '<Ada & "Bob">', token: 'tok123', expires_minutes: '30' });
    const mail = await smtp.waitFor('ada@example.test');
    expect(mail.from).toBe('mail@catalytic.example');
    expect(mail.subject).toBe('Reset your Catalytic password');
    expect(mail.links).toEqual(['https://catalytic.example/account/reset-password#token=tok123']);
    expect(mail.text).toContain('Hello <Ada & "Bob">,');
    expect(mail.html).toContain('Hello &lt;Ada &amp; &quot;Bob&quot;&gt;,');
    expect(mail.html).toContain('href="https://catalytic.example/account/reset-password#token=tok123"');
    await queueEmpty();
  });

  it('retries a transient refusal until the message goes through, once', async () => {
    smtp.refuseWith = (to, nth) => (to === 'busy@example.test' && nth < 2 ? 421 : undefined);
    const before = smtp.refused;
    await outbox.send('password-changed', 'busy@example.test', { first_name: 'Bo' });
    await smtp.waitFor('busy@example.test');
    expect(smtp.refused - before).toBe(2);
    await queueEmpty();
    expect(smtp.to('busy@example.test')).toHaveLength(1);
  });

  it('gives up at once on a permanent refusal, and keeps nothing of the message', async () => {
    smtp.refuseWith = (to) => (to === 'gone@example.test' ? 550 : undefined);
    const before = smtp.refused;
    await outbox.send('password-changed', 'gone@example.test', { first_name: 'Gone' });
    while (smtp.refused === before) await new Promise((r) => setTimeout(r, 20));
    await queueEmpty();
    expect(smtp.refused - before).toBe(1);
    expect(await env.redis.keys(`${env.redisPrefix}:${MAIL_QUEUE}:*:data`)).toEqual([]);
  });

  it('in development writes the message and its links to the log instead', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
    const transport = createMailTransport(parseConfig({}), logger);
    await transport.send(renderMail('invitation', 'new@example.test', { tenant_name: 'Acme', inviter_name: 'Ada', role: 'member', token: 'inv1', expires_hours: '72' }, 'http://localhost:8000'));
    const line = JSON.parse(lines[0] as string) as { mail: { to: string; subject: string; links: string[] }; text: string };
    expect(line.mail).toEqual({ to: 'new@example.test', subject: 'Ada invited you to Acme on Catalytic', links: ['http://localhost:8000/account/accept-invitation#token=inv1'] });
    expect(line.text).toContain('as member');
  });

  it('is configured once at start: smtp needs SMTP_URL, production refuses the log transport', () => {
    expect(parseConfig({}).MAIL_TRANSPORT).toBe('log');
    expect(parseConfig({ SMTP_URL: 'smtp://mail.example:587' }).MAIL_TRANSPORT).toBe('smtp');
    expect(() => parseConfig({ MAIL_TRANSPORT: 'smtp' })).toThrow('Invalid setting SMTP_URL: is required when MAIL_TRANSPORT is smtp');
    expect(() => parseConfig({ SMTP_URL: 'http://mail.example' })).toThrow('Invalid setting SMTP_URL');
    expect(() => parseConfig({ MAIL_FROM: 'not an address' })).toThrow('Invalid setting MAIL_FROM');
    const production = { NODE_ENV: 'production', JWT_PRIVATE_KEY: 'pem', SECRETS_KEY: Buffer.alloc(32, 1).toString('base64') };
    expect(parseConfig(production).MAIL_TRANSPORT).toBe('off');
    expect(() => parseConfig({ ...production, MAIL_TRANSPORT: 'log' })).toThrow('Invalid setting MAIL_TRANSPORT: cannot be log in production');
  });
});
