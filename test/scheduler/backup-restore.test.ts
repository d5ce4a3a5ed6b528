/**
 * Backups with the real PostgreSQL client tools and the real `catalytic` commands: back up,
 * drop the database, restore, and every table holds exactly the rows it held (count and a
 * checksum of its rows in a fixed order); row-level security and grants come back too. Old
 * dumps are pruned to BACKUP_KEEP; a failing backup is logged, counted and leaves no file.
 */
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBackups, takeBackup } from '../../shared/backup.ts';
import { maintenanceRuns } from '../../scheduler/metrics.ts';
import { SchedulerService } from '../../scheduler/scheduler-service.ts';
import { recordUsage } from '../../shared/usage.ts';
import { useTestEnvironment } from '../support/context.ts';
import { dropDatabase } from '../support/postgres.ts';
import { spawnCatalytic } from '../support/processes.ts';
import { createTestTenant } from '../support/tenants.ts';
import { finishJobWithEvent, insertEndpoint, insertJob } from '../webhooks/fixtures.ts';
import { insertLattice } from '../support/lattices.ts';

const env = useTestEnvironment({ BACKUP_CRON: 'off', LOG_LEVEL: 'info' });
let backupDir: string;

beforeAll(async () => {
  backupDir = await mkdtemp(join(tmpdir(), 'catalytic-backups-'));
});
afterAll(async () => {
  await rm(backupDir, { recursive: true, force: true });
});

interface TableState {
  rows: number;
  checksum: string;
}

/** Every table's row count and checksum, plus the security settings a restore must bring back. */
async function snapshot(url: string): Promise<{ tables: Record<string, TableState>; security: unknown[] }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      `select tablename as name from pg_tables where schemaname = 'public' order by tablename`,
    );
    const state: Record<string, TableState> = {};
    for (const { name } of tables) {
      const id = pg.escapeIdentifier(name);
      const { rows } = await client.query<{ n: string; checksum: string }>(
        `select count(*) as n, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as checksum from ${id} t`,
      );
      state[name] = { rows: Number(rows[0]?.n), checksum: rows[0]?.checksum ?? '' };
    }
    const { rows: security } = await client.query(
      `select c.relname, c.relrowsecurity, (select count(*) from pg_policies p where p.tablename = c.relname)::int as policies,
              has_table_privilege('catalytic_app', c.oid, 'SELECT') as app_can_read
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind = 'r' order by c.relname`,
    );
    return { tables: state, security };
  } finally {
    await client.end();
  }
}

async function seed(): Promise<void> {
  for (const plan of ['free', 'starter', 'enterprise']) {
    const tenant = await createTestTenant(env.db, { plan });
    await insertLattice(env.db, tenant.tenantId, { name: 'grid', spec: { shape: [8, 8], obstacles: { density: 0.3, seed: 7 } } });
    await insertEndpoint(env.db, tenant.tenantId, 'https://hooks.example.com/x');
    for (const status of ['completed', 'failed', 'cancelled'] as const) {
      const jobId = await insertJob(env.db, tenant.tenantId, { status: 'running' });
      await finishJobWithEvent(env.db, tenant.tenantId, jobId, status);
      if (status === 'completed') await env.db('job_results').insert({ job_id: jobId, tenant_id: tenant.tenantId, result: { clusters: 2, sizes: [1, 63] } });
    }
    await insertJob(env.db, tenant.tenantId, { status: 'queued' });
    await recordUsage(env.db, tenant.tenantId, 'api_calls', 42);
    await env.db('audit_log').insert({ tenant_id: tenant.tenantId, action: 'test.seeded', details: { note: 'quotes \' and "unicode" ✓' } });
  }
}

describe('backup and restore', () => {
  it('backs up, and restores into an empty database exactly what there was', async () => {
    await seed();
    const url = env.env.DATABASE_URL as string;
    const before = await snapshot(url);
    expect(before.tables.jobs?.rows).toBe(12);
    expect(before.tables.webhook_deliveries?.rows).toBe(9);
    expect(Object.keys(before.tables).length).toBeGreaterThanOrEqual(14);

    const backup = spawnCatalytic(['backup'], { ...env.env, BACKUP_DIR: backupDir });
    expect(await backup.exited).toBe(0);
    const [file] = await listBackups({ DATABASE_URL: url, BACKUP_DIR: backupDir });
    expect(file).toMatch(new RegExp(`^catalytic-${env.databaseName}-\\d{8}T\\d{9}Z\\.dump$`));

    // Disaster: the database is gone.
    await env.db.destroy();
    await dropDatabase(env.databaseName);

    const restore = spawnCatalytic(['restore', join(backupDir, file as string)], { ...env.env, DATABASE_CREATE: 'true' });
    expect(await restore.exited, restore.output()).toBe(0);
    expect(await snapshot(url)).toEqual(before);

    // Restoring over data is refused and changes nothing.
    const again = spawnCatalytic(['restore', join(backupDir, file as string)], env.env);
    expect(await again.exited).toBe(1);
    expect(again.output()).toMatch(/is not empty/);
    expect(await snapshot(url)).toEqual(before);
  });

  it('writes dumps 0600 in a 0700 directory, and makes older dumps private too', async () => {
    const dir = join(backupDir, 'private');
    // A directory and a dump as an earlier version left them: readable by everyone.
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    const old = join(dir, `catalytic-${env.databaseName}-20200101T000000000Z.dump`);
    await writeFile(old, 'old dump', { mode: 0o644 });
    await chmod(old, 0o644);
    const umask = process.umask(0o022);
    try {
      const { file } = await takeBackup({ DATABASE_URL: env.env.DATABASE_URL as string, BACKUP_DIR: dir, BACKUP_KEEP: 5 });
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(umask);
    }
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(old)).mode & 0o777).toBe(0o600);
  });

  it('keeps only the newest BACKUP_KEEP dumps', async () => {
    const config = { DATABASE_URL: env.env.DATABASE_URL as string, BACKUP_DIR: join(backupDir, 'keep'), BACKUP_KEEP: 2 };
    const taken: string[] = [];
    for (let i = 0; i < 3; i++) taken.push((await takeBackup(config)).file);
    const names = await readdir(config.BACKUP_DIR);
    expect(names.sort()).toEqual(taken.slice(1).map((f) => f.split('/').at(-1)).sort());
  });

  it('logs and counts a failed scheduled backup and leaves no file behind', async () => {
    const dir = join(backupDir, 'failing');
    const scheduler = new SchedulerService(env.runtime({ BACKUP_DIR: dir }));
    const failures = async () =>
      (await maintenanceRuns.get()).values.find((v) => v.labels.task === 'backup' && v.labels.outcome === 'failure')?.value ?? 0;
    const before = await failures();
    // A machine without the PostgreSQL client tools.
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(scheduler.runTask('backup')).rejects.toThrow(/pg_dump could not run \(ENOENT\); install postgresql-client/);
    } finally {
      process.env.PATH = path;
      await scheduler.close();
    }
    expect(await failures()).toBe(before + 1);
    expect(await readdir(dir)).toEqual([]);
  });
});
