/**
 * A request that fails because PostgreSQL or Redis cannot be reached, or because no database
 * connection is to be had (too many clients, a connect or pool timeout), answers 503 with
 * Retry-After — what clients (and the SDK) retry — not a 500, which says the request itself broke.
 */
import { describe, expect, it } from 'vitest';
import { OVERLOAD_RETRY_AFTER_S, toAppError } from '../../api/middleware/problem-errors.ts';

describe('errors of unreachable dependencies', () => {
  it('become 503 service_unavailable with Retry-After', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const shutdown = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    // What node-postgres throws at COMMIT when the server went away during the transaction.
    const broken = new Error('COMMIT; - Client has encountered a connection error and is not queryable');
    for (const err of [refused, shutdown, broken]) {
      const error = toAppError(err);
      expect(error.status).toBe(503);
      expect(error.code).toBe('service_unavailable');
      expect(error.headers['Retry-After']).toBe('1');
    }
  });

  it('when no connection is to be had (overload), become 503 service_unavailable with a longer Retry-After', () => {
    const pool = new Error('Knex: Timeout acquiring a connection. The pool is probably full.');
    const tooMany = Object.assign(new Error('sorry, too many clients already'), { code: '53300' });
    // node-postgres's connect timeout: the server did not finish accepting the connection in time.
    const slowConnect = new Error('timeout expired');
    for (const err of [pool, tooMany, slowConnect]) {
      const error = toAppError(err);
      expect(error.status).toBe(503);
      expect(error.code).toBe('service_unavailable');
      expect(error.message).toMatch(/overloaded/);
      expect(error.headers['Retry-After']).toBe(String(OVERLOAD_RETRY_AFTER_S));
    }
    // Not every timeout is a connect timeout.
    expect(toAppError(new Error('timeout expired while waiting for the kernel')).status).toBe(500);
  });

  it('leave other failures a 500 that tells the client nothing more', () => {
    const error = toAppError(new TypeError("Cannot read properties of undefined (reading 'id')"));
    expect(error.status).toBe(500);
    expect(error.code).toBe('internal');
  });
});
