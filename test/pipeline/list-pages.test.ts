/**
 * The list routes (jobs, lattices, webhook deliveries): a cursor the API did not hand out is a
 * 400 problem, never a database error, on every one of them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeListCursor } from '../../shared/list-cursor.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { insertEndpoint } from '../webhooks/fixtures.ts';
import { json } from './support.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let tenant: TestTenant;
let listRoutes: string[];

const ID = '0b6f1d2e-3c4a-4b5c-8d6e-7f8091a2b3c4';

beforeAll(async () => {
  tenant = await createTestTenant(env.db);
  const endpoint = await insertEndpoint(env.db, tenant.tenantId, 'https://hooks.example.test/catalytic');
  listRoutes = ['/api/jobs', '/api/lattices', `/api/webhooks/${endpoint.id}/deliveries`];
});

const raw = (text: string) => Buffer.from(text).toString('base64url');

describe('list cursors', () => {
  // Each passes a pattern check of digits and hyphens, and each is refused by PostgreSQL's casts.
  const malformed = {
    'a 13th month': raw(`2024-13-01T00:00:00.000000Z|${ID}`),
    '30 February': raw(`2024-02-30T00:00:00.000000Z|${ID}`),
    'year 0': raw(`0000-01-01T00:00:00.000000Z|${ID}`),
    'hour 25': raw(`2024-01-01T25:00:00.000000Z|${ID}`),
    'minute 61': raw(`2024-01-01T00:61:00.000000Z|${ID}`),
    'an id of hyphens': raw('2024-01-01T00:00:00.000000Z|------------------------------------'),
    'an id with misplaced hyphens': raw('2024-01-01T00:00:00.000000Z|0b6f1d2e3c4a-4b5c-8d6e-7f8091a2b3c4-'),
    'a third part': raw(`2024-01-01T00:00:00.000000Z|${ID}|x`),
    'not base64 of a cursor': 'bm90IGEgY3Vyc29y',
  };

  for (const [what, cursor] of Object.entries(malformed)) {
    it(`answers 400 to ${what} on every list route`, async () => {
      for (const route of listRoutes) {
        const response = await api.request(`${route}?cursor=${cursor}`, { headers: tenant.headers });
        const problem = await json<{ code: string; errors?: Array<{ path: string }> }>(response);
        expect({ route, status: response.status }).toEqual({ route, status: 400 });
        expect(problem).toMatchObject({ code: 'validation_failed', errors: [{ path: 'query.cursor' }] });
      }
    });
  }

  it('accepts a well-formed cursor on every list route', async () => {
    const cursor = encodeListCursor({ at: '2024-02-29T23:59:59.999999Z', id: ID });
    for (const route of listRoutes) {
      const response = await api.request(`${route}?cursor=${cursor}`, { headers: tenant.headers });
      expect({ route, status: response.status }).toEqual({ route, status: 200 });
      expect(await json<{ data: unknown[] }>(response)).toMatchObject({ data: [], next_cursor: null });
    }
  });
});
