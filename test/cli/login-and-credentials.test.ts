/**
 * Signing in from the command line against the real API: `register` and `login` save a session
 * in a credentials file with mode 0600, later commands use it (and save the refreshed tokens when
 * the access token stops working), `login --api-key` saves a key instead, and `logout` ends the
 * session and deletes the file. A paid plan asked for at `register` waits for an operator, who
 * decides it with `catalytic admin plan-requests`. Also the webhook commands, which need no worker.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredCredentials } from '../../client/index.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { confirmAddress } from '../support/identity.ts';
import { TestReceiver } from '../webhooks/receiver.ts';
import { runCli, STRONG_PASSWORD } from './stack.ts';

const env = useTestEnvironment();
const ADMIN = { ADMIN_USER: 'operator', ADMIN_PASSWORD: 'correct horse battery staple', ADMIN_TOKEN: 'op-token-91c3' };
const api = useTestApi(env, ADMIN);
let home: string;
let config: string;
const email = `cli-${randomUUID().slice(0, 8)}@example.test`;

/** The CLI with only a URL and a credentials file: what it knows, it read from the file. */
const cli = (args: string[], input?: string) => runCli(args, { CATALYTIC_URL: api.url, CATALYTIC_CONFIG: config, HOME: home }, { input });
/** The CLI as an operator: no tenant credentials at all, only the operator's in the environment. */
const operatorCli = (args: string[], operatorEnv: Record<string, string>) => runCli(args, { CATALYTIC_URL: api.url, HOME: '/nonexistent', ...operatorEnv });
const saved = async () => JSON.parse(await readFile(config, 'utf8')) as StoredCredentials;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'catalytic-login-'));
  config = join(home, 'config', 'catalytic', 'credentials.json');
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('credentials', () => {
  it('registers a tenant and saves the session with mode 0600', async () => {
    const run = await cli(
      ['register', '--company', 'Percolation Ltd', '--email', email, '--first-name', 'Ada', '--last-name', 'Lovelace', '--plan', 'starter', '--password-stdin'],
      `${STRONG_PASSWORD}\n`,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Registered Percolation Ltd on http:\/\/127\.0\.0\.1:\d+ and logged in$/m);
    expect(run.stdout).toMatch(/^plan\s+free$/m);
    expect(run.stdout).toMatch(/^requested\s+starter: asked for once you confirm your address \(catalytic email verify <link>\), then approved by an operator$/m);
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    expect(await saved()).toMatchObject({ url: api.url, email, access_token: expect.any(String), refresh_token: expect.stringMatching(/^crt_/) });

    const whoami = await cli(['whoami', '--json']);
    expect(whoami.code, whoami.stderr).toBe(0);
    const me = JSON.parse(whoami.stdout) as { user: { id: string }; tenant: { id: string } };
    expect(me).toMatchObject({ kind: 'user', role: 'owner', user: { email }, tenant: { name: 'Percolation Ltd', plan_code: 'free' } });
    // The owner follows the mailed link: the sign-up's plan becomes a pending request.
    expect(await confirmAddress(api, me.tenant.id, me.user.id)).toBeDefined();
  });

  // Eight CLI runs, each a fresh process: more time than the default.
  it('an operator lists and approves the pending plan request with catalytic admin', { timeout: 180_000 }, async () => {
    const shown = await cli(['subscription', 'show']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^plan\s+free$/m);
    expect(shown.stdout).toMatch(/^requested\s+starter \(pending since /m);

    // Without the right operator credentials the admin commands get nowhere.
    const wrong = await operatorCli(['admin', 'plan-requests', 'list'], { CATALYTIC_ADMIN_TOKEN: 'not-the-token' });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/operator credentials/);

    const listed = await operatorCli(['admin', 'plan-requests', 'list', '--json'], { CATALYTIC_ADMIN_TOKEN: ADMIN.ADMIN_TOKEN });
    expect(listed.code, listed.stderr).toBe(0);
    const { data } = JSON.parse(listed.stdout) as { data: Array<{ id: string; tenant_name: string; to_plan: string; status: string }> };
    const request = data.find((r) => r.tenant_name === 'Percolation Ltd');
    expect(request).toMatchObject({ to_plan: 'starter', status: 'pending' });

    const approved = await operatorCli(['admin', 'plan-requests', 'approve', request?.id as string, '--reason', 'invoice paid', '--admin-user', ADMIN.ADMIN_USER], {
      CATALYTIC_ADMIN_PASSWORD: ADMIN.ADMIN_PASSWORD,
    });
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(new RegExp(`^Approved request ${request?.id}: Percolation Ltd is now on starter$`, 'm'));
    const whoami = await cli(['whoami', '--json']);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ tenant: { plan_code: 'starter' } });

    // An upgrade from the CLI says it is pending; the tenant may withdraw it.
    const upgrade = await cli(['subscription', 'change', 'enterprise']);
    expect(upgrade.code, upgrade.stderr).toBe(0);
    expect(upgrade.stdout).toMatch(/^Requested enterprise: pending approval by an operator \(request [0-9a-f-]{36}\); the plan stays starter until then$/m);
    const withdrawn = await cli(['subscription', 'cancel-request']);
    expect(withdrawn.code, withdrawn.stderr).toBe(0);
    expect(withdrawn.stdout).toMatch(/^Withdrew the request for enterprise/m);
    const pending = await operatorCli(['admin', 'plan-requests', 'list'], { CATALYTIC_ADMIN_TOKEN: ADMIN.ADMIN_TOKEN });
    expect(pending.stdout).toMatch(/^No pending plan requests$/m);
  });

  it('refreshes a session whose access token stopped working, and saves the new tokens', async () => {
    const before = await saved();
    await writeFile(config, JSON.stringify({ ...before, access_token: 'revoked.or.expired' }), { mode: 0o600 });
    const run = await cli(['whoami']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^signed in as\\s+${email}$`, 'm'));
    const after = await saved();
    expect(after.access_token).not.toBe('revoked.or.expired');
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect((await stat(config)).mode & 0o777).toBe(0o600);
  });

  it('logs in with a password from stdin', async () => {
    const before = await saved();
    const run = await cli(['login', '--email', email, '--password-stdin'], `${STRONG_PASSWORD}\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Logged in to /m);
    expect((await saved()).refresh_token).not.toBe(before.refresh_token);

    const wrong = await cli(['login', '--email', email, '--password-stdin'], 'not the password\n');
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/HTTP 401 invalid_credentials/);
    expect(wrong.stderr).toMatch(/check the email and password/);
    expect(wrong.stderr).not.toMatch(/run `catalytic login`/);
  });

  it('creates an API key, then logs in with it instead of a session', async () => {
    const created = await cli(['api-keys', 'create', '--name', 'laptop', '--scopes', 'jobs:*,lattices:read', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const key = (JSON.parse(created.stdout) as { key: string }).key;
    expect(key).toMatch(/^ck_/);

    const listed = await cli(['api-keys', 'list']);
    expect(listed.stdout).toMatch(/laptop\s+ck_\w{8}_…\s+jobs:read,jobs:write,lattices:read\s+active/);

    const login = await cli(['login', '--api-key', key]);
    expect(login.code, login.stderr).toBe(0);
    const file = await saved();
    expect(file).toEqual({ url: api.url, api_key: key });
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    const whoami = await cli(['whoami', '--json']);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ kind: 'api_key', api_key: { name: 'laptop' } });

    // The key lacks webhooks:read: an authorisation error, exit 4.
    const refused = await cli(['webhooks', 'list']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/HTTP 403 insufficient_scope/);
  });

  it('refuses a scope pattern that names no scope (exit 2)', async () => {
    const run = await cli(['api-keys', 'create', '--name', 'typo', '--scopes', 'job:*']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--scopes: unknown job:\*/);
  });

  it('says there are no jobs yet and how to submit one, instead of a bare header', async () => {
    const run = await cli(['jobs', 'list']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^no jobs yet; submit one with: catalytic submit /);
  });

  it('refuses to ask for a password without a terminal (exit 2)', async () => {
    const run = await cli(['login', '--email', email]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--password-stdin/);
  });

  it('logs out: the session ends on the server and the file is deleted', async () => {
    expect((await cli(['login', '--email', email, '--password-stdin'], STRONG_PASSWORD)).code).toBe(0);
    const session = await saved();
    const run = await cli(['logout']);
    expect(run.code, run.stderr).toBe(0);
    await expect(stat(config)).rejects.toMatchObject({ code: 'ENOENT' });
    const revoked = await api.request('/api/me', { headers: { authorization: `Bearer ${session.access_token}` } });
    expect(revoked.status).toBe(401);
    const after = await cli(['whoami']);
    expect(after.code).toBe(4);
    expect(after.stderr).toMatch(/Not signed in/);
  });
});

describe('webhook commands', () => {
  it('creates, lists, tests, shows deliveries of, updates and deletes an endpoint', async () => {
    expect((await cli(['login', '--email', email, '--password-stdin'], STRONG_PASSWORD)).code).toBe(0);
    // Nothing listens here: the test delivery fails and is recorded as such.
    const target = 'http://127.0.0.1:1/hooks';
    const created = await cli(['webhooks', 'create', '--endpoint', target, '--events', 'job.completed,job.failed', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const endpoint = JSON.parse(created.stdout) as { id: string; secret: string; events: string[] };
    expect(endpoint).toMatchObject({ events: ['job.completed', 'job.failed'], secret: expect.stringMatching(/^whsec_/) });

    const listed = await cli(['webhooks', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`^${endpoint.id}\\s+${target.replaceAll('.', '\\.')}\\s+job\\.completed,job\\.failed\\s+yes`, 'm'));

    // The attempt failed: the command shows it and says so with its exit code.
    const tested = await cli(['webhooks', 'test', endpoint.id, '--json']);
    expect(tested.code, tested.stderr).toBe(1);
    expect(JSON.parse(tested.stdout)).toMatchObject({ event_type: 'webhook.test', attempts: 1, status: 'pending', last_status_code: null });
    expect(tested.stderr).toMatch(/The attempt failed \(no answer: ECONNREFUSED/);

    // A receiver that answers 200: exit 0.
    const receiver = await new TestReceiver().start();
    try {
      const good = JSON.parse((await cli(['webhooks', 'create', '--endpoint', receiver.url, '--json'])).stdout) as { id: string };
      const ok = await cli(['webhooks', 'test', good.id]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/^status\s+succeeded/m);
      expect(receiver.requests).toHaveLength(1);
      expect((await cli(['webhooks', 'delete', good.id])).code).toBe(0);
    } finally {
      await receiver.close();
    }

    const deliveries = await cli(['webhooks', 'deliveries', endpoint.id, '--json']);
    expect((JSON.parse(deliveries.stdout) as { data: unknown[] }).data).toHaveLength(1);

    const updated = await cli(['webhooks', 'update', endpoint.id, '--disable']);
    expect(updated.stdout).toMatch(/^enabled\s+no/m);
    const rotated = await cli(['webhooks', 'rotate-secret', endpoint.id, '--previous-ttl', '0', '--json']);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ secret: expect.stringMatching(/^whsec_/) });
    expect((await cli(['webhooks', 'delete', endpoint.id])).code).toBe(0);
    expect((await cli(['webhooks', 'show', endpoint.id])).code).toBe(1);
    expect((await cli(['webhooks', 'update', endpoint.id])).code).toBe(2);
  }, 120_000);
});
