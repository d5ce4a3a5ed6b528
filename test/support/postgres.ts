/**
 * Test databases: global setup migrates a template database once per run; each test file clones
 * it (`CREATE DATABASE … TEMPLATE`, a few tens of milliseconds) and drops its clone when done.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { withServerClient } from '../../shared/db.ts';

export const SERVER_URL = process.env.TEST_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';
const PREFIX = 'catalytic_t_';

export function databaseUrl(name: string): string {
  return `${SERVER_URL}/${name}`;
}

/** `catalytic_t_<unix seconds>_<random>`: the timestamp lets a later run drop leftovers. */
export function freshDatabaseName(kind = 'db'): string {
  return `${PREFIX}${Math.floor(Date.now() / 1000)}_${kind}_${randomBytes(4).toString('hex')}`;
}

export function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withServerClient(databaseUrl('postgres'), fn);
}

export async function createDatabase(name: string, template?: string): Promise<void> {
  await withAdminClient(async (client) => {
    const sql = `create database ${pg.escapeIdentifier(name)}${template ? ` template ${pg.escapeIdentifier(template)}` : ''}`;
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(sql);
        return;
      } catch (err) {
        // Two files cloning the template at the same instant: PostgreSQL refuses one; try again.
        const busy = (err as { code?: string }).code === '55006';
        if (!busy || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  });
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdminClient((client) => client.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`));
}

/** Drops test databases left by runs that died more than `olderThanS` seconds ago. */
export async function dropStaleDatabases(olderThanS = 3600): Promise<void> {
  const cutoff = Math.floor(Date.now() / 1000) - olderThanS;
  await withAdminClient(async (client) => {
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${PREFIX}%`]);
    for (const { datname } of rows) {
      const stamp = Number(datname.slice(PREFIX.length).split('_')[0]);
      if (Number.isFinite(stamp) && stamp < cutoff) {
        await client.query(`drop database if exists ${pg.escapeIdentifier(datname)} with (force)`);
      }
    }
  });
}
