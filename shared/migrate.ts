/**
 * Runs the migrations in `migrations/`. Several replicas may start at once: a session advisory
 * lock lets one migrate while the others wait and then find nothing to do.
 */
import type { Knex } from 'knex';
import { MIGRATIONS, type Migration } from '../migrations/index.ts';

/** Arbitrary but fixed: the advisory lock key that serialises migrations. */
const MIGRATION_LOCK_KEY = 7_242_015_001;

class ListMigrationSource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return MIGRATIONS.map(([name]) => name);
  }
  getMigrationName(name: string): string {
    return name;
  }
  async getMigration(name: string): Promise<Migration> {
    const found = MIGRATIONS.find(([n]) => n === name);
    if (!found) throw new Error(`Unknown migration ${name}`);
    return found[1];
  }
}

const migratorConfig = (): Knex.MigratorConfig => ({ migrationSource: new ListMigrationSource() });

async function withMigrationLock<T>(db: Knex, fn: () => Promise<T>): Promise<T> {
  const connection: unknown = await db.client.acquireConnection();
  try {
    await db.raw('select pg_advisory_lock(?)', [MIGRATION_LOCK_KEY]).connection(connection);
    try {
      return await fn();
    } finally {
      await db.raw('select pg_advisory_unlock(?)', [MIGRATION_LOCK_KEY]).connection(connection);
    }
  } finally {
    await db.client.releaseConnection(connection);
  }
}

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  return withMigrationLock(db, async () => {
    const [, applied] = (await db.migrate.latest(migratorConfig())) as [number, string[]];
    return applied;
  });
}

/** Rolls back every migration (for tests and `catalytic migrate --down`). */
export async function migrateDownAll(db: Knex): Promise<string[]> {
  return withMigrationLock(db, async () => {
    const [, reverted] = (await db.migrate.rollback(migratorConfig(), true)) as [number, string[]];
    return reverted;
  });
}

/** Names of migrations not yet applied; empty when the schema is current. */
export async function pendingMigrations(db: Knex): Promise<string[]> {
  const [, pending] = (await db.migrate.list(migratorConfig())) as [unknown[], Array<{ file: string } | string>];
  return pending.map((p) => (typeof p === 'string' ? p : p.file));
}
