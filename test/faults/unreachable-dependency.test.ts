/**
 * A request that fails because PostgreSQL or Redis cannot be reached answers 503 with
 * Retry-After — what clients (and the SDK) retry — not a 500, which says the request itself broke.
 */
import { describe, expect, it } from 'vitest';
import { toAppError } from '../../api/middleware/problem-errors.ts';

describe('errors of unreachable dependencies', () => {
  it('become 503 service_unavailable with Retry-After', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const shutdown = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    const pool = new Error('Knex: Timeout acquiring a connection. The pool is probably full.');
    // What node-postgres throws at COMMIT when the server went away during the transaction.
    const broken = new Error('COMMIT; - Client has encountered a connection error and is not queryable');
    for (const err of [refused, shutdown, pool, broken]) {
      const error = toAppError(err);
      expect(error.status).toBe(503);
      expect(error.code).toBe('service_unavailable');
      expect(error.headers['Retry-After']).toBe('1');
    }
  });

  it('leave other failures a 500 that tells the client nothing more', () => {
    const error = toAppError(new TypeError("Cannot read properties of undefined (reading 'id')"));
    expect(error.status).toBe(500);
    expect(error.code).toBe('internal');
  });
});
