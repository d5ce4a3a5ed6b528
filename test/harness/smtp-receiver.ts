/**
 * A mail server on a free loopback port (`smtp-server`), each message read back with `mailparser`:
 * the stand-in for a tenant's mailbox. A hook may refuse a message with an SMTP code, so a suite
 * can fail first attempts (421) or refuse for good (550).
 */
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One message as the receiver saw it. */
export interface ReceivedMail {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
  /** The links of the plain-text part, in order. */
  links: string[];
}

export interface SmtpReceiver {
  /** `smtp://127.0.0.1:<port>` for SMTP_URL. */
  url: string;
  /** Every accepted message, in order. */
  received: ReceivedMail[];
  /** Messages refused by the hook (each attempt counts). */
  refused: number;
  /** Decides each incoming message: an SMTP code to refuse it with, or undefined to accept. */
  refuseWith: ((to: string, nth: number) => number | undefined) | undefined;
  /** Resolves with the next (or an already received) message to `to` that matches. */
  waitFor(to: string, match?: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** Messages to `to`. */
  to(address: string): ReceivedMail[];
  close(): Promise<void>;
}

function toMail(parsed: ParsedMail): ReceivedMail {
  const address = (a: ParsedMail['to'] | ParsedMail['from']): string =>
    (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address ?? '')).join(',');
  const text = parsed.text ?? '';
  return {
    to: address(parsed.to),
    from: address(parsed.from),
    subject: parsed.subject ?? '',
    text,
    html: typeof parsed.html === 'string' ? parsed.html : '',
    links: text.match(/https?:\/\/\S+/g) ?? [],
  };
}

export async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const waiters: Array<{ to: string; match: (m: ReceivedMail) => boolean; resolve: (m: ReceivedMail) => void }> = [];
  const attempts = new Map<string, number>();
  const receiver = {} as SmtpReceiver;
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const to = address.address.toLowerCase();
      const nth = attempts.get(to) ?? 0;
      attempts.set(to, nth + 1);
      const code = receiver.refuseWith?.(to, nth);
      if (code !== undefined) {
        receiver.refused++;
        const err = Object.assign(new Error(code >= 500 ? 'No such mailbox' : 'Try again later'), { responseCode: code });
        callback(err);
        return;
      }
      callback();
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const mail = toMail(parsed);
          receiver.received.push(mail);
          for (const waiter of [...waiters]) {
            if (mail.to.toLowerCase() === waiter.to.toLowerCase() && waiter.match(mail)) {
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.resolve(mail);
            }
          }
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  Object.assign(receiver, {
    url: `smtp://127.0.0.1:${port}`,
    received: [] as ReceivedMail[],
    refused: 0,
    refuseWith: undefined,
    to: (address: string) => receiver.received.filter((m) => m.to.toLowerCase() === address.toLowerCase()),
    waitFor(to: string, match: (m: ReceivedMail) => boolean = () => true, timeoutMs = 15_000) {
      const already = receiver.received.find((m) => m.to.toLowerCase() === to.toLowerCase() && match(m));
      if (already) return Promise.resolve(already);
      return new Promise<ReceivedMail>((resolve, reject) => {
        const waiter = { to, match, resolve: (m: ReceivedMail) => (clearTimeout(timer), resolve(m)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no mail to ${to} within ${timeoutMs} ms (received: ${receiver.received.map((m) => `${m.to}: ${m.subject}`).join('; ') || 'none'})`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
  return receiver;
}
