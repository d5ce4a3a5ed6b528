/**
 * A request body is read only after its caller is authenticated: anonymous bodies are refused
 * from the headers alone (401), without being parsed or even waited for. And the body checks
 * (depth, unstorable strings) still name the field at fault once a caller is known.
 */
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonBodyProblem, MAX_JSON_DEPTH } from '../../api/middleware/json-limits.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTestTenant(env.db);
});

/** Sends the head of a POST that announces `length` bytes and only `sent` of them; resolves with the first response line. */
function postPartly(path: string, headers: Record<string, string>, length: number, sent: string, timeoutMs: number): Promise<string> {
  const { port } = new URL(api.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('no answer');
    }, timeoutMs);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(answer.slice(0, answer.indexOf('\r\n')));
      }
    });
    socket.on('error', () => undefined);
    const head = Object.entries({ host: '127.0.0.1', 'content-type': 'application/json', 'content-length': String(length), ...headers })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n${sent}`);
  });
}

describe('bodies after authentication', () => {
  it('refuses an anonymous body with 401 without waiting for it', async () => {
    // 900 KB announced, 20 bytes sent: a server that reads before it authenticates never answers.
    const line = await postPartly('/api/jobs', {}, 900_000, '{"type":"components",', 5_000);
    expect(line).toMatch(/^HTTP\/1\.1 401 /);
    const forged = await postPartly('/api/lattices', { authorization: 'Bearer ck_forged' }, 900_000, '{"shape":[', 5_000);
    expect(forged).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('closes the connection after refusing an unread body, instead of draining the upload', async () => {
    const { port } = new URL(api.url);
    const outcome = await new Promise<{ answer: string; closed: boolean }>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1');
      let answer = '';
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ answer, closed: false });
      }, 5_000);
      socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      // The server ends the connection itself, though 899,980 announced bytes never came.
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ answer, closed: true });
      });
      socket.write(`POST /api/jobs HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 900000\r\n\r\n{"type":"components",`);
    });
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(outcome.answer.toLowerCase()).toContain('connection: close');
    expect(outcome.closed).toBe(true);
  });

  it('answers an anonymous malformed or hostile body with 401, not with what parsing would find', async () => {
    const deep = `${'['.repeat(MAX_JSON_DEPTH + 10)}${']'.repeat(MAX_JSON_DEPTH + 10)}`;
    for (const body of ['{"type": ', deep, '{"name": "\\u0000"}']) {
      const response = await api.request('/api/lattices', { body });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: 'unauthorized' });
    }
  });

  it('still refuses a malformed body of an authenticated caller, naming the field', async () => {
    const invalid = await api.request('/api/lattices', { body: '{"shape": [3,', headers: tenant.headers });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ code: 'invalid_json' });
    const nul = await api.request('/api/lattices', { body: { shape: [3, 3], name: 'a\u0000b' }, headers: tenant.headers });
    expect(nul.status).toBe(400);
    expect(await nul.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'body.name' }] });
  });
});

describe('the body walk', () => {
  it('names the value at fault by its path', () => {
    expect(jsonBodyProblem({ a: [1, 'ok', { b: 'x\u0000' }] })).toEqual({ path: 'body.a.2.b', message: 'must not contain U+0000 or unpaired surrogates' });
    expect(jsonBodyProblem({ a: { ['k\uD800']: 1 } })).toEqual({ path: 'body.a', message: 'has a key with U+0000 or unpaired surrogates' });
    expect(jsonBodyProblem('\uDC00')).toEqual({ path: 'body', message: 'must not contain U+0000 or unpaired surrogates' });
    expect(jsonBodyProblem({ ok: '\uD83D\uDE00', list: [[], {}, null, 1.5, true] })).toBeUndefined();
  });

  it('refuses nesting past the limit at the first container too deep', () => {
    let value: unknown = [];
    for (let i = 0; i < MAX_JSON_DEPTH; i++) value = [value];
    expect(jsonBodyProblem(value)).toEqual({ path: `body${'.0'.repeat(MAX_JSON_DEPTH)}`, message: `is nested deeper than ${MAX_JSON_DEPTH} levels` });
    let fine: unknown = [];
    for (let i = 0; i < MAX_JSON_DEPTH - 1; i++) fine = [fine];
    expect(jsonBodyProblem(fine)).toBeUndefined();
  });

  it('walks a large body of small arrays (an obstacle list) without a problem', () => {
    const blocked = Array.from({ length: 200_000 }, (_, i) => [i % 10, (i >> 4) % 10, i % 7]);
    expect(jsonBodyProblem({ shape: [10, 10, 10], obstacles: { blocked } })).toBeUndefined();
    blocked[123_456] = [1, 2, 'x\uD800' as unknown as number];
    expect(jsonBodyProblem({ obstacles: { blocked } })).toEqual({ path: 'body.obstacles.blocked.123456.2', message: 'must not contain U+0000 or unpaired surrogates' });
  });
});
