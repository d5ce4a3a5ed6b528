/**
 * The SSRF guard with private networks refused (the production default): deliveries to
 * loopback, private, link-local and metadata addresses are refused at delivery time, whether the
 * URL names the address or a host resolving to it; redirects are never followed; the request
 * dials the address that was checked. Receivers listen where a refused request would land, so a
 * guard that let one through would be seen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/logger.ts';
import { type HostResolver, isRefusedAddress } from '../../shared/webhooks/address-guard.ts';
import { DeliverySender } from '../../shared/webhooks/delivery-sender.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { finishJobWithEvent, insertEndpoint, insertJob, testSecretBox } from './fixtures.ts';
import { TestReceiver } from './receiver.ts';

const env = useTestEnvironment();
const guardedApi = useTestApi(env, { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' });

let tenant: TestTenant;
let v4: TestReceiver;
let v6: TestReceiver;
const others: TestReceiver[] = [];

beforeAll(async () => {
  tenant = await createTestTenant(env.db);
  v4 = await new TestReceiver().start();
  v6 = await new TestReceiver({ host: '::1' }).start();
});
afterAll(async () => {
  await Promise.all([v4, v6, ...others].map((r) => r?.close()));
});

function guardedSender(options: { resolve?: HostResolver; isRefused?: (address: string) => boolean } = {}): DeliverySender {
  const config = parseConfig({ ...env.env, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false', WEBHOOK_TIMEOUT_MS: '1000' });
  return new DeliverySender({ db: env.db, logger: createLogger(config, 'test'), config, secretBox: testSecretBox(), ...options });
}

async function deliveryTo(url: string): Promise<string> {
  await env.db('webhooks').where({ tenant_id: tenant.tenantId }).delete();
  await insertEndpoint(env.db, tenant.tenantId, url);
  const jobId = await insertJob(env.db, tenant.tenantId, { status: 'running' });
  const [deliveryId] = await finishJobWithEvent(env.db, tenant.tenantId, jobId);
  return deliveryId as string;
}

describe('the SSRF guard at delivery time', () => {
  const literal = () => [
    `http://127.0.0.1:${v4.port}/hook`,
    `http://10.0.0.1:${v4.port}/hook`,
    'http://169.254.169.254/latest/meta-data/',
    `http://[::1]:${v6.port}/hook`,
    `http://[::ffff:127.0.0.1]:${v4.port}/hook`,
    `http://0.0.0.0:${v4.port}/hook`,
  ];

  it('refuses loopback, private, link-local and metadata addresses named in the URL', async () => {
    const sender = guardedSender();
    for (const url of literal()) {
      const report = await sender.attemptIfDue(await deliveryTo(url));
      expect(report, url).toMatchObject({ outcome: 'retrying', statusCode: null });
      expect(report?.error, url).toMatch(/^Refused: .*loopback, private, link-local or reserved/);
    }
    expect(v4.requests).toHaveLength(0);
    expect(v6.requests).toHaveLength(0);
  });

  it('refuses a host name that resolves to loopback (the system resolver, and any resolver)', async () => {
    const viaHosts = await guardedSender().attemptIfDue(await deliveryTo(`http://localhost:${v4.port}/hook`));
    expect(viaHosts?.error).toMatch(/^Refused: The host localhost resolves to 127\.0\.0\.1/);
    const rebinding: HostResolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const viaDns = await guardedSender({ resolve: rebinding }).attemptIfDue(await deliveryTo(`http://hooks.customer.example:${v4.port}/x`));
    expect(viaDns?.error).toMatch(/resolves to 127\.0\.0\.1/);
    // One private answer among public ones is enough to refuse.
    const mixed: HostResolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.1.2.3', family: 4 },
    ];
    expect((await guardedSender({ resolve: mixed }).attemptIfDue(await deliveryTo('http://mixed.example/x')))?.error).toMatch(/10\.1\.2\.3/);
    expect(v4.requests).toHaveLength(0);
  });

  it('does not follow a redirect to loopback', async () => {
    // 127.0.0.2 stands in for a public server: the policy below allows it and nothing else local.
    const target = await new TestReceiver().start();
    const redirector = await new TestReceiver({
      host: '127.0.0.2',
      respond: () => ({ status: 302, headers: { location: `http://127.0.0.1:${target.port}/hook` } }),
    }).start();
    others.push(target, redirector);
    const sender = guardedSender({ isRefused: (address) => address !== '127.0.0.2' && isRefusedAddress(address) });
    const report = await sender.attemptIfDue(await deliveryTo(redirector.url));
    expect(report).toMatchObject({ outcome: 'retrying', statusCode: 302 });
    expect(redirector.requests).toHaveLength(1);
    expect(target.requests).toHaveLength(0);
  });

  it('dials the address it checked instead of resolving the host again', async () => {
    const pinned = await new TestReceiver({ host: '127.0.0.2' }).start();
    others.push(pinned);
    // "hooks.test" does not exist in real DNS: only the checked answer can reach the receiver.
    let lookups = 0;
    const resolve: HostResolver = async () => {
      lookups++;
      return [{ address: '127.0.0.2', family: 4 }];
    };
    const sender = guardedSender({ resolve, isRefused: (address) => address !== '127.0.0.2' && isRefusedAddress(address) });
    const report = await sender.attemptIfDue(await deliveryTo(`http://hooks.test:${pinned.port}/hook`));
    expect(report).toMatchObject({ outcome: 'succeeded', statusCode: 200 });
    expect(lookups).toBe(1);
    expect(pinned.requests[0]?.headers.host).toBe(`hooks.test:${pinned.port}`);
  });

  it('refuses SIIT (::ffff:0:0/96) and local-use NAT64 (64:ff9b:1::/48) addresses, whatever IPv4 they carry', async () => {
    for (const address of ['::ffff:0:7f00:1', '::ffff:0:127.0.0.1', '::ffff:0:a9fe:a9fe', '::ffff:0:8.8.8.8', '::ffff:0:0', '64:ff9b:1::a9fe:a9fe', '64:ff9b:1::8.8.8.8', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff']) {
      expect(isRefusedAddress(address), address).toBe(true);
    }
    // Their neighbours stay usable: the well-known NAT64 prefix to a public address, and a public
    // address just outside each range.
    for (const address of ['64:ff9b::8.8.8.8', '64:ff9b:2::1', '::fffe:0:808:808']) {
      expect(isRefusedAddress(address), address).toBe(false);
    }
    const sender = guardedSender();
    for (const url of [`http://[::ffff:0:7f00:1]:${v4.port}/hook`, 'http://[64:ff9b:1::a9fe:a9fe]/latest/meta-data/']) {
      const report = await sender.attemptIfDue(await deliveryTo(url));
      expect(report?.error, url).toMatch(/^Refused: .*loopback, private, link-local or reserved/);
    }
    const viaDns = await guardedSender({ resolve: async () => [{ address: '::ffff:0:a00:1', family: 6 }] }).attemptIfDue(
      await deliveryTo('http://siit.example/x'),
    );
    expect(viaDns?.error).toMatch(/resolves to ::ffff:0:a00:1/);
    expect(v4.requests).toHaveLength(0);
  });

  it('classifies addresses', () => {
    for (const address of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.100.100.200', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00:ec2::254', 'ff02::1', '::ffff:10.0.0.1', '::ffff:7f00:1', '64:ff9b::a9fe:a9fe']) {
      expect(isRefusedAddress(address), address).toBe(true);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect(isRefusedAddress(address), address).toBe(false);
    }
  });
});

describe('the SSRF guard at the API', () => {
  async function create(url: string): Promise<{ status: number; body: { code?: string; detail?: string } }> {
    const res = await guardedApi.request('/api/webhooks', { body: { url, events: ['job.completed'] }, headers: tenant.headers });
    return { status: res.status, body: (await res.json()) as { code?: string; detail?: string } };
  }

  it('refuses URLs that are not http(s), carry credentials, or name a refused address', async () => {
    for (const url of ['ftp://example.com/x', 'http://user:pw@example.com/x', 'not a url', 'http://127.0.0.1/x', 'http://[::1]/x', 'http://169.254.169.254/x', 'http://localhost:8080/x']) {
      const { status, body } = await create(url);
      expect(status, url).toBe(400);
      expect(body.code, url).toBe('validation_failed');
      expect(body.detail, url).toMatch(/^body\.url: /);
    }
  });

  it('names the setting that allows a receiver on this machine', async () => {
    const { body } = await create('http://127.0.0.1:9999/hook');
    expect(body.detail).toMatch(/WEBHOOK_ALLOW_PRIVATE_NETWORKS=true/);
  });

  it('accepts a public https URL', async () => {
    const { status } = await create('https://hooks.example.com/catalytic');
    expect(status).toBe(201);
  });
});
