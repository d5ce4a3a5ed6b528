/**
 * Mail for a test file: an SMTP server the test owns (read back with mailparser) and the
 * scheduler's mail sender pointed at it, with links on the test API's URL. Started after the API
 * (declare `useTestApi` first), stopped after the file.
 */
import { afterAll, beforeAll } from 'vitest';
import { MailSender } from '../../scheduler/mail-sender.ts';
import { type SmtpReceiver, startSmtpReceiver } from '../harness/smtp-receiver.ts';
import type { TestApi } from './api.ts';
import type { TestEnvironment } from './context.ts';

export interface TestMail {
  smtp: SmtpReceiver;
  sender: MailSender;
}

export function useTestMail(env: TestEnvironment, api: TestApi): TestMail {
  const mail = {} as TestMail;
  beforeAll(async () => {
    mail.smtp = await startSmtpReceiver();
    mail.sender = new MailSender(env.runtime({ SMTP_URL: mail.smtp.url, PUBLIC_URL: api.url }));
    await mail.sender.start();
  });
  afterAll(async () => {
    await mail.sender?.close();
    await mail.smtp?.close();
  });
  return mail;
}

/** The token in a mail's link (`…#token=<token>`). */
export function tokenOf(link: string | undefined): string {
  const token = new URL(link ?? 'http://x').hash.replace(/^#token=/, '');
  if (!token) throw new Error(`no token in ${link}`);
  return token;
}

/** Confirms a signed-up address from the mail its sign-up sent (as its owner would). */
export async function verifyByMail(api: TestApi, mail: TestMail, email: string): Promise<void> {
  const received = await mail.smtp.waitFor(email, (m) => m.subject === 'Confirm your email address for Catalytic');
  const res = await api.request('/auth/verify-email', { body: { token: tokenOf(received.links[0]) } });
  if (res.status !== 204) throw new Error(`verify-email answered ${res.status}: ${await res.text()}`);
}
