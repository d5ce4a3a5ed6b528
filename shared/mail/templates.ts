/**
 * Mail templates: each message is `templates/<name>.txt` (a `Subject:` line, a blank line, the
 * plain-text body) and `templates/<name>.html`, with `{{param}}` placeholders. Values are escaped
 * in the HTML part; `{{base_url}}` is the API's public URL, added when the message is rendered.
 */
import { readFileSync } from 'node:fs';

/** Every template with the parameters it needs (besides base_url). */
export const MAIL_TEMPLATES = {
  'password-reset': ['first_name', 'token', 'expires_minutes'],
  'password-changed': ['first_name'],
  invitation: ['tenant_name', 'inviter_name', 'role', 'token', 'expires_hours'],
  'email-verification': ['first_name', 'token', 'expires_hours'],
  'plan-request-decided': ['first_name', 'tenant_name', 'to_plan', 'decision', 'reason'],
  'webhook-disabled': ['first_name', 'tenant_name', 'url', 'webhook_id', 'reason'],
  'quota-warning': ['first_name', 'tenant_name', 'quota', 'percent', 'used', 'limit', 'consequence'],
} as const satisfies Record<string, readonly string[]>;

export type MailTemplate = keyof typeof MAIL_TEMPLATES;
export type MailParams<T extends MailTemplate> = Record<(typeof MAIL_TEMPLATES)[T][number], string>;

/** A message ready for a transport. */
export interface RenderedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

interface TemplateFiles {
  subject: string;
  text: string;
  html: string;
}

const loaded = new Map<MailTemplate, TemplateFiles>();

function load(name: MailTemplate): TemplateFiles {
  let files = loaded.get(name);
  if (!files) {
    const raw = readFileSync(new URL(`./templates/${name}.txt`, import.meta.url), 'utf8');
    const match = /^Subject: (.+)\r?\n\r?\n([\s\S]*)$/.exec(raw);
    if (!match) throw new Error(`mail template ${name}.txt must start with a Subject: line and a blank line`);
    const html = readFileSync(new URL(`./templates/${name}.html`, import.meta.url), 'utf8');
    files = { subject: match[1] as string, text: match[2] as string, html };
    loaded.set(name, files);
  }
  return files;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);

function fill(template: string, params: Record<string, string>, escape: (v: string) => string, name: string): string {
  return template.replace(/\{\{([a-z_]+)\}\}/g, (_, key: string) => {
    const value = params[key];
    if (value === undefined) throw new Error(`mail template ${name} needs the parameter ${key}`);
    return escape(value);
  });
}

/** Renders one message; a missing parameter throws (a programming error, not a transient one). */
export function renderMail(name: MailTemplate, to: string, params: Record<string, string>, baseUrl: string): RenderedMail {
  const files = load(name);
  const all = { ...params, base_url: baseUrl };
  // Header values never carry a line break (header injection through a name or a company).
  const subject = fill(files.subject, all, (v) => v.replace(/[\r\n]+/g, ' '), name);
  return { to, subject, text: fill(files.text, all, (v) => v, name), html: fill(files.html, all, escapeHtml, name) };
}

/** The links in a plain-text body (what the development log transport shows). */
export function linksIn(text: string): string[] {
  return text.match(/https?:\/\/\S+/g) ?? [];
}
