/**
 * Judges one answer to a hostile request: a 4xx must be problem+json whose `status` matches, a
 * 2xx must be a well-formed answer, and neither a 5xx, a hang nor a dropped connection is ever
 * acceptable (huge bodies may see the connection closed once the server has refused them).
 */
import type { HostileCase } from './cases.ts';
import type { Outcome } from './raw-http.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The label an outcome is counted under: the status, or `timeout` / `error:<code>`. */
export function outcomeLabel(outcome: Outcome): string {
  if (outcome.kind === 'response') return String(outcome.status);
  if (outcome.kind === 'timeout') return 'timeout';
  return `error:${outcome.code}`;
}

function header(outcome: Extract<Outcome, { kind: 'response' }>, name: string): string {
  const value = outcome.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/** Why the outcome is wrong, or undefined when it is acceptable. */
export function judge(hostile: HostileCase, outcome: Outcome, route: { protected: boolean; plainErrors: boolean }): string | undefined {
  if (outcome.kind === 'timeout') return `no answer within ${outcome.ms} ms`;
  if (outcome.kind === 'error') {
    if (hostile.mayReset && /ECONNRESET|EPIPE/.test(outcome.code)) return undefined;
    return `connection failed without an answer (${outcome.code})`;
  }
  const { status } = outcome;
  if (hostile.expectStatus !== undefined && status !== hostile.expectStatus) return `${status} where ${hostile.expectStatus} is required`;
  const type = header(outcome, 'content-type');
  if (status >= 500) return `server error ${status}: ${outcome.body.toString('utf8').slice(0, 300)}`;
  if (status >= 400) {
    if (route.plainErrors && outcome.body.length && /^application\/json/.test(type)) return undefined;
    if (!type.startsWith('application/problem+json')) return `${status} with content-type "${type}" instead of problem+json`;
    const parsed = parseJson(outcome.body);
    if (!parsed.ok) return `${status} problem body is not JSON`;
    const problem = parsed.value as { status?: unknown; type?: unknown; title?: unknown };
    if (problem.status !== status) return `problem status ${String(problem.status)} differs from HTTP ${status}`;
    if (typeof problem.type !== 'string' || typeof problem.title !== 'string') return 'problem lacks type or title';
    return undefined;
  }
  if (status === 304) {
    // `If-None-Match: *` matches any current representation (RFC 9110 § 13.1.2): a GET of a job
    // the credential may read answers 304, without a body.
    const conditional = Object.entries(hostile.request.headers).some(([name, value]) => name.toLowerCase() === 'if-none-match' && value.trim() !== '');
    if (!conditional || !['GET', 'HEAD'].includes(hostile.request.method.toUpperCase())) return 'unexpected status 304';
    if (route.protected && !hostile.credential.genuine) return `304 for credentials "${hostile.credential.name}"`;
    return outcome.body.length ? '304 with a body' : undefined;
  }
  if (status < 200 || status >= 300) return `unexpected status ${status}`;
  if (route.protected && !hostile.credential.genuine) return `${status} for credentials "${hostile.credential.name}"`;
  if (status === 204) return outcome.body.length ? '204 with a body' : undefined;
  if (outcome.streamed) return /^(retry:|event:|:)/.test(outcome.body.toString('utf8')) ? undefined : 'event stream does not start with an event';
  if (/^application\/([a-z.+-]+\+)?json/.test(type) || type.startsWith('application/jwk-set+json')) {
    const parsed = parseJson(outcome.body);
    if (!parsed.ok) return `${status} body is not JSON`;
    if (status === 201 || status === 202) {
      // What was made: the body itself, a tenant (sign-up), or a pending plan request (an upgrade).
      const body = parsed.value as { id?: unknown; tenant?: { id?: unknown }; pending_request?: { id?: unknown } | null };
      const id = body.id ?? body.tenant?.id ?? body.pending_request?.id;
      if (typeof id !== 'string' || !UUID.test(id)) return `${status} without the id of what it made`;
    }
    return undefined;
  }
  if (!type) return `${status} without a content-type`;
  return undefined;
}
