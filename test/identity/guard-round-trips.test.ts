/**
 * The request guard's Redis work: every guard of one event-loop turn goes out on the API's
 * per-request connection in one socket write (one round trip), never on the shared
 * command connection, and the limits stay exact however many guards arrive at once.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Principal } from '../../shared/auth/principal.ts';
import { isAppError } from '../../shared/errors.ts';
import { isCluster, type RedisClient } from '../../shared/redis.ts';
import { createApiDeps } from '../../api/deps.ts';
import type { ApiContext } from '../../api/state.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';

const BURST = 100;
const env = useTestEnvironment({ RATE_LIMIT_CREDENTIAL_PER_SECOND: String(BURST) });
const api = useTestApi(env);

/** An API-key principal of a tenant of its own on `plan` (the guard reads nothing else). */
function principalOn(plan: string): Principal {
  return { kind: 'api_key', tenantId: randomUUID(), userId: null, apiKeyId: randomUUID(), role: 'owner', scopes: new Set(), planCode: plan };
}

/** The part of a Koa context the guard touches: its response headers. */
function contextRecordingHeaders(): { ctx: ApiContext; headers: Map<string, string> } {
  const headers = new Map<string, string>();
  const ctx = { set: (name: string, value: string) => void headers.set(name, value) } as unknown as ApiContext;
  return { ctx, headers };
}

/** Runs `count` guards in one turn; resolves with each one's outcome (true: let through). */
async function guardAtOnce(principal: Principal, count: number): Promise<Array<boolean | string>> {
  const guard = api.deps.identity.rateLimits.guard;
  return Promise.all(
    Array.from({ length: count }, () =>
      guard(contextRecordingHeaders().ctx, principal).then(
        () => true,
        (err: unknown) => (isAppError(err) && err.status === 429 ? String(err.extra?.['limit']) : Promise.reject(err)),
      ),
    ),
  );
}

/** The node connections behind a client (those of a cluster it has opened). */
function nodesOf(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('all').filter((node) => node.stream !== undefined) : [client];
}

/**
 * Counts the writes `client`'s sockets hand to the system (`_write` and `_writev` calls: a corked
 * socket's buffered commands leave in one `_writev`), and the commands sent through it by name.
 */
function watch(client: RedisClient): { writes: () => number; commands: string[] } {
  const commands: string[] = [];
  const nodes = nodesOf(client);
  const writes = nodes.flatMap((node) => {
    const socket = node.stream as unknown as { _write: () => void; _writev: () => void };
    return [vi.spyOn(socket, '_write'), vi.spyOn(socket, '_writev')];
  });
  for (const node of nodes) {
    const send = node.sendCommand.bind(node);
    vi.spyOn(node, 'sendCommand').mockImplementation((command, ...rest) => {
      commands.push(command.name);
      return send(command, ...rest);
    });
  }
  return { writes: () => writes.reduce((n, spy) => n + spy.mock.calls.length, 0), commands };
}

/** The test's connections to every primary (one Redis, or each primary of a cluster). */
const primaries = (): Redis[] => (isCluster(env.redis) ? env.redis.nodes('master') : [env.redis]);

afterEach(() => vi.restoreAllMocks());

describe('the request guard on a connection of its own that writes a turn at once', () => {
  it('is a connection of its own, named, not auto-pipelined by ioredis', async () => {
    const { perRequest } = api.deps.identity;
    expect(perRequest).not.toBe(api.deps.runtime.redis);
    expect(perRequest.options.enableAutoPipelining).toBeFalsy();
    await expect.poll(() => perRequest.status).toBe('ready');
    await api.deps.identity.revocations.isRevoked(randomUUID(), undefined);
    const lists = await Promise.all(primaries().map((node) => node.call('CLIENT', 'LIST') as Promise<string>));
    expect(lists.join('\n')).toContain('name=catalytic:per-request');
  });

  it('sends 300 guards of one turn in one write, none on the shared connection; exactly the burst cap is let through', async () => {
    const principal = principalOn('enterprise');
    // Plans read and scripts loaded beforehand, so the 300 leave in the same turn.
    await guardAtOnce(principalOn('enterprise'), 1);
    const guarded = watch(api.deps.identity.perRequest);
    const shared = watch(api.deps.runtime.redis);

    const outcomes = await guardAtOnce(principal, 300);

    expect(outcomes.filter((o) => o === true)).toHaveLength(BURST);
    expect(outcomes.filter((o) => o === 'credential_requests_per_second')).toHaveLength(300 - BURST);
    expect(guarded.commands.filter((name) => name === 'evalsha')).toHaveLength(300);
    // A cluster's copy is plain: its nodes keep their own sockets (shared/redis.ts › perTurnCopy).
    if (!isCluster(api.deps.identity.perRequest)) expect(guarded.writes()).toBeLessThanOrEqual(2);
    expect(shared.commands.filter((name) => name === 'evalsha' || name === 'eval')).toEqual([]);
    // Refused calls are not counted in the tenant's minute: exactly the allowed ones are.
    const tenantKey = `${env.redisPrefix}:rl:{${principal.tenantId}}:tenant`;
    expect(Number(await env.redis.get(tenantKey))).toBe(BURST);
  });

  it('keeps the tenant limit exact and its headers right when 300 guards of a free tenant hit at once', async () => {
    const principal = principalOn('free');
    const outcomes = await guardAtOnce(principal, 300);
    // The free plan: 60 requests a minute; the burst cap lets 100 through to the tenant's count.
    expect(outcomes.filter((o) => o === true)).toHaveLength(60);
    expect(outcomes.filter((o) => o === 'requests_per_minute')).toHaveLength(BURST - 60);
    expect(outcomes.filter((o) => o === 'credential_requests_per_second')).toHaveLength(300 - BURST);
    const { ctx, headers } = contextRecordingHeaders();
    const other = principalOn('free');
    await api.deps.identity.rateLimits.guard(ctx, other);
    expect(Object.fromEntries(headers)).toMatchObject({ 'RateLimit-Limit': '60', 'RateLimit-Remaining': '59', 'RateLimit-Policy': '60;w=60' });
  });

  it('runs the script again by EVAL when Redis has forgotten it (NOSCRIPT), every guard of the turn still counted once', async () => {
    await Promise.all(primaries().map((node) => node.call('SCRIPT', 'FLUSH')));
    const principal = principalOn('enterprise');
    const guarded = watch(api.deps.identity.perRequest);
    const outcomes = await guardAtOnce(principal, 150);
    expect(outcomes.filter((o) => o === true)).toHaveLength(BURST);
    expect(guarded.commands.filter((name) => name === 'eval').length).toBeGreaterThan(0);
    expect(Number(await env.redis.get(`${env.redisPrefix}:rl:{${principal.tenantId}}:tenant`))).toBe(BURST);
  });

  it('reads revocations and job state versions on the same connection', async () => {
    const guarded = watch(api.deps.identity.perRequest);
    const shared = watch(api.deps.runtime.redis);
    expect(await api.deps.identity.revocations.isRevoked(randomUUID(), randomUUID())).toBe(false);
    expect(await api.deps.jobs.states.read(randomUUID(), randomUUID())).toBeUndefined();
    expect(guarded.commands).toEqual(['exists', 'exists', 'get']);
    expect(shared.commands.filter((name) => name === 'exists' || name === 'get')).toEqual([]);
  });

  it('counts through the fallback limiters while its connection is not ready, still exactly', async () => {
    const { perRequest } = api.deps.identity;
    perRequest.disconnect();
    await expect.poll(() => perRequest.status).toBe('end');
    const outcomes = await guardAtOnce(principalOn('enterprise'), 150);
    expect(outcomes.filter((o) => o === true)).toHaveLength(BURST);
    expect(outcomes.filter((o) => o === 'credential_requests_per_second')).toHaveLength(150 - BURST);
  });

  it('is closed when the API lets go of its collaborators, and with the runtime where nobody does', async () => {
    const deps = createApiDeps(env.runtime());
    await expect.poll(() => deps.identity.perRequest.status).toBe('ready');
    await deps.close();
    await expect.poll(() => deps.identity.perRequest.status).toBe('end');

    const forgotten = createApiDeps(env.runtime());
    await expect.poll(() => forgotten.identity.perRequest.status).toBe('ready');
    await forgotten.runtime.close();
    await expect.poll(() => forgotten.identity.perRequest.status).toBe('end');
  });
});
