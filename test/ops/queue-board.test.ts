/**
 * bull-board at /admin/queues: only operator credentials open it (basic auth or ADMIN_TOKEN,
 * never a tenant's API key); a real browser signed in as the operator sees every tenant's queue,
 * including a tenant created after the page was first served, and a job's data. Read-only
 * unless configured otherwise; absent (404) when no operator credential is configured; repeated
 * wrong credentials lock the address out. The sidebar lists tenant queues by tenant name, never by
 * queue id; a running worker process counts as a worker of every tenant queue; opened with the
 * credentials in the URL, the page's labels still load.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAINTENANCE_QUEUE } from '../../shared/queues/maintenance-queue.ts';
import { openTenantQueue, type TenantQueue, tenantQueueName } from '../../shared/queues/tenant-queues.ts';
import { WEBHOOK_DELIVERY_QUEUE } from '../../shared/webhooks/delivery-queue.ts';
import { useTestApi } from '../support/api.ts';
import { startWorker } from '../cli/stack.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';

const ADMIN = { ADMIN_USER: 'operator', ADMIN_PASSWORD: 'correct horse battery staple', ADMIN_TOKEN: 'op-token-4f1c9e' };
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where the screenshots go (kept after the run, for a look). */
export const SCREENSHOT_DIR = mkdtempSync(join(tmpdir(), 'catalytic-board-'));

const env = useTestEnvironment();
const api = useTestApi(env, ADMIN);
const disabled = useTestApi(env);
const writable = useTestApi(env, { ...ADMIN, ADMIN_READ_ONLY: 'false' });

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
const operator = basic(ADMIN.ADMIN_USER, ADMIN.ADMIN_PASSWORD);
/** What the board calls the queues of the two tenants (their names on the board and in its URLs). */
const BOARD_A = 'acme-lattices (starter)';
const BOARD_B = 'globex-grids (enterprise)';
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const boardApi = (name: string, rest = '') => `/admin/queues/api/queues/${encodeURIComponent(name)}${rest}`;

let tenantA: TestTenant;
let tenantB: TestTenant;
let jobId: string;
const queues: TenantQueue[] = [];

/** A tenant's queue, opened with the job pipeline's own helper. */
function tenantQueue(tenantId: string): TenantQueue {
  const queue = openTenantQueue(env.redis, env.redisPrefix, tenantId);
  queues.push(queue);
  return queue;
}

beforeAll(async () => {
  tenantA = await createTestTenant(env.db, { name: 'acme-lattices', plan: 'starter' });
  tenantB = await createTestTenant(env.db, { name: 'globex-grids', plan: 'enterprise' });
  // The pipeline's jobs carry only `tenant_id` (the row is the truth); a marker makes this one findable.
  const job = await tenantQueue(tenantA.tenantId).add('shortest_path', {
    tenant_id: tenantA.tenantId,
    marker: 'board-visible-marker-7731',
  } as { tenant_id: string });
  jobId = job.id as string;
});

afterAll(async () => {
  await Promise.all(queues.map((q) => q.close()));
});

describe('who may open the board', () => {
  it('asks for basic credentials without any', async () => {
    const response = await api.request('/admin/queues');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="catalytic-operators"/);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('refuses a tenant API key, on the page and on the board API', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const response = await api.request(path, { headers: tenantA.headers });
      expect(response.status, path).toBe(401);
    }
  });

  it('refuses a wrong password and a wrong user', async () => {
    expect((await api.request('/admin/queues', { headers: basic(ADMIN.ADMIN_USER, 'wrong') })).status).toBe(401);
    expect((await api.request('/admin/queues', { headers: basic('root', ADMIN.ADMIN_PASSWORD) })).status).toBe(401);
  });

  it('opens with the operator password or the operator token', async () => {
    expect((await api.request('/admin/queues', { headers: operator })).status).toBe(200);
    const viaToken = await api.request('/admin/queues/api/queues', { headers: { authorization: `Bearer ${ADMIN.ADMIN_TOKEN}` } });
    expect(viaToken.status).toBe(200);
    const { queues: listed } = (await viaToken.json()) as { queues: Array<{ name: string }> };
    const names = listed.map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining([BOARD_A, BOARD_B, WEBHOOK_DELIVERY_QUEUE, MAINTENANCE_QUEUE]));
    expect(names.filter((n) => n.includes(tenantQueueName(tenantA.tenantId)))).toEqual([]);
  });

  it('does not exist when no operator credential is configured', async () => {
    expect((await disabled.request('/admin/queues', { headers: operator })).status).toBe(404);
  });
});

describe('read-only unless configured', () => {
  const pause = (base: typeof api) => base.request(boardApi(BOARD_B, '/pause'), { method: 'PUT', headers: operator });

  it('refuses actions by default', async () => {
    const response = await pause(api);
    expect(response.status).toBe(405);
    expect(await tenantQueue(tenantB.tenantId).isPaused()).toBe(false);
  });

  it('allows them with ADMIN_READ_ONLY=false', async () => {
    const response = await pause(writable);
    expect(response.status).toBe(200);
    const queue = tenantQueue(tenantB.tenantId);
    expect(await queue.isPaused()).toBe(true);
    await queue.resume();
  });
});

describe('workers', () => {
  it('counts a running worker process as a worker of every tenant queue', async () => {
    const workersOf = async (name: string) => {
      const response = await api.request(boardApi(name, '/workers'), { headers: operator });
      expect(response.status).toBe(200);
      return ((await response.json()) as { workers: Array<{ name: string | null }> }).workers;
    };
    expect(await workersOf(BOARD_A)).toEqual([]);
    const worker = await startWorker(env);
    for (const name of [BOARD_A, BOARD_B]) {
      expect(await workersOf(name)).toEqual([expect.objectContaining({ name: expect.stringMatching(new RegExp(`-${worker.child.pid}$`)) })]);
    }
  });
});

describe('in a browser', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('shows the tenant queues, a tenant created later, and a job with its data', async () => {
    const context = await browser.newContext({
      httpCredentials: { username: ADMIN.ADMIN_USER, password: ADMIN.ADMIN_PASSWORD },
      viewport: { width: 1280, height: 900 },
    });
    try {
      const page = await context.newPage();
      const failed: string[] = [];
      page.on('response', (r) => {
        if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
      });

      await page.goto(`${api.url}/admin/queues`);
      // Tenant queues are listed by tenant name and plan, in the sidebar too, without their ids.
      await page.getByText(BOARD_A).first().waitFor({ timeout: 15_000 });
      await page.getByText(BOARD_B).first().waitFor();
      await page.getByText(WEBHOOK_DELIVERY_QUEUE, { exact: true }).first().waitFor();
      await page.getByText(MAINTENANCE_QUEUE, { exact: true }).first().waitFor();
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'overview.png'), fullPage: true });
      const sidebar = page.locator('#bull-board-sidebar');
      await sidebar.getByText(BOARD_A, { exact: true }).waitFor();
      await sidebar.getByText(BOARD_B, { exact: true }).waitFor();
      expect(await sidebar.innerText()).not.toMatch(/\{t\.|[0-9a-f]{8}-[0-9a-f]{4}-/);

      // The worker process started above is a worker of every tenant queue: their cards show no
      // "No workers" badge (the maintenance queue's does, no scheduler runs here).
      const overview = await page.locator('body').innerText();
      expect(overview).toMatch(/^\{maintenance\}\nNo workers$/m);
      expect(overview).toMatch(new RegExp(`^${escapeRegExp(BOARD_A)}\\n\\d+ Jobs?$`, 'm'));
      expect(overview).toMatch(new RegExp(`^${escapeRegExp(BOARD_B)}\\n\\d+ Jobs?$`, 'm'));

      // A tenant that signs up while the board runs appears without a restart.
      await createTestTenant(env.db, { name: 'initech-late', plan: 'free' });
      await new Promise((r) => setTimeout(r, 2100));
      await page.reload();
      await page.getByText('initech-late (free)').first().waitFor({ timeout: 15_000 });

      await page.goto(`${api.url}/admin/queues/queue/${encodeURIComponent(BOARD_A)}/${jobId}`);
      await page.getByText('board-visible-marker-7731').first().waitFor({ timeout: 15_000 });
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'job.png'), fullPage: true });
      expect(failed).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('loads its labels when opened with the credentials in the URL', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      const url = new URL(`${api.url}/admin/queues`);
      url.username = ADMIN.ADMIN_USER;
      url.password = ADMIN.ADMIN_PASSWORD;
      await page.goto(url.href);
      await page.getByText(BOARD_A).first().waitFor({ timeout: 15_000 });
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'credentials-in-url.png'), fullPage: true });
      const text = await page.locator('body').innerText();
      expect(text).not.toMatch(/\b(MENU|QUEUE|DASHBOARD)\.[A-Z_]+/);
      expect(text).toMatch(/^\d+ Jobs?$/m);
    } finally {
      await context.close();
    }
  });
});

// Last: it locks 127.0.0.1 out of this file's boards.
describe('guessing operator credentials', () => {
  it('locks the address out after ten wrong attempts, even for the right password', async () => {
    // Earlier tests already sent a few wrong credentials (tenant keys count too) from this address.
    const statuses: number[] = [];
    for (let i = 0; i < 11 && !statuses.includes(429); i++) {
      statuses.push((await api.request('/admin/queues', { headers: basic(ADMIN.ADMIN_USER, `guess-${i}`) })).status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
    const locked = await api.request('/admin/queues', { headers: operator });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(60);
  });
});
