/**
 * Where rendered messages go: an SMTP server through nodemailer (MAIL_TRANSPORT=smtp), or the log
 * (MAIL_TRANSPORT=log, the development default: the message and its links, so a developer can
 * follow them without a mail server).
 */
import nodemailer from 'nodemailer';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { linksIn, type RenderedMail } from './templates.ts';

export interface MailTransport {
  send(message: RenderedMail): Promise<void>;
  close(): void;
}

/** An SMTP answer that retrying cannot change (5xx: no such mailbox, refused): the job stops. */
export function isPermanentMailError(err: unknown): boolean {
  const code = (err as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

type TransportConfig = Pick<Config, 'MAIL_TRANSPORT' | 'SMTP_URL' | 'SMTP_PASSWORD' | 'SMTP_TIMEOUT_MS' | 'MAIL_FROM'>;

export function createMailTransport(config: TransportConfig, logger: Logger): MailTransport {
  if (config.MAIL_TRANSPORT === 'smtp' && config.SMTP_URL) {
    const url = new URL(config.SMTP_URL);
    const smtp = nodemailer.createTransport({
      host: url.hostname,
      port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
      secure: url.protocol === 'smtps:',
      ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: config.SMTP_PASSWORD ?? decodeURIComponent(url.password) } } : {}),
      connectionTimeout: config.SMTP_TIMEOUT_MS,
      greetingTimeout: config.SMTP_TIMEOUT_MS,
      socketTimeout: config.SMTP_TIMEOUT_MS,
    });
    return {
      async send(message) {
        await smtp.sendMail({ from: config.MAIL_FROM, to: message.to, subject: message.subject, text: message.text, html: message.html });
      },
      close: () => smtp.close(),
    };
  }
  return {
    async send(message) {
      // Development only (production refuses MAIL_TRANSPORT=log): the links are what the developer needs.
      logger.info({ mail: { to: message.to, subject: message.subject, links: linksIn(message.text) }, text: message.text }, `mail to ${message.to}: ${message.subject}`);
    },
    close() {},
  };
}
